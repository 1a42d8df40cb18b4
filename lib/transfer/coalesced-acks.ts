/**
 * A receiver's acknowledgements, one per turn of the event loop: an ACK names the offset the
 * partial holds, so the last write completed in a turn acknowledges every one before it. A delta
 * transfer writes a block header and a copied frame per block, and the file sink completes
 * several of them with one system call: an ACK for each (JSON, two CRC32s and a socket write on
 * the receiver, a parse and a pass over the window on the sender) cost both peers more than the
 * write itself.
 */

/** One acknowledgement: chunk `seq` is written, and the partial holds `offset` bytes. */
export interface Ack {
  seq: number;
  offset: number;
}

/** Acknowledgements sent at the end of the turn of the event loop, the furthest one only. */
export class CoalescedAcks {
  private due: Ack | null = null;
  private scheduled: Promise<void> | null = null;

  /** `send` puts one ACK on the wire; its promise resolves when the connection can take more. */
  constructor(private readonly send: (ack: Ack) => Promise<void>) {}

  /**
   * Acknowledges chunk `seq`, written up to `offset` (offsets only grow): sent at the end of this
   * turn, or with a later one. Resolves once the ACK that covers it is sent.
   */
  ack(seq: number, offset: number): Promise<void> {
    this.due = { seq, offset };
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.scheduled;
  }

  /**
   * Sends the acknowledgement due now, if any: called before any other message (a NACK, DONE),
   * so that the peer sees them in order.
   */
  flush(): Promise<void> {
    this.scheduled = null;
    const due = this.due;
    this.due = null;
    return due ? this.send(due) : Promise.resolve();
  }
}

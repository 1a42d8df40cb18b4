/** A decoder for one compressed frame fed in pieces (used for frames too large to decode whole). */
export interface StreamingFrameDecoder {
  /**
   * Feeds bytes of the frame, calling `emit` with decoded output. When `emit` returns false the
   * decoder stops after that output, so a caller can wait for its consumer (a frame may expand a
   * thousandfold). Returns how many bytes were used: fewer than given when the frame ended
   * inside `input` or `emit` asked to stop.
   */
  write(input: Buffer, emit: (out: Buffer) => boolean): number;
  /** True once the frame's last byte has been read and checked. */
  readonly finished: boolean;
  /**
   * True when the decoder stopped for `emit` with output still held inside it: call `write`
   * again (with an empty buffer if need be) before concluding that it needs more input.
   */
  readonly pending: boolean;
  /** Releases native state (safe to call more than once). */
  end(): void;
}

/** A decoder for one compressed frame fed in pieces (used for frames too large to decode whole). */
export interface StreamingFrameDecoder {
  /**
   * Feeds bytes of the frame, calling `emit` with decoded output. Returns how many bytes were
   * used: fewer than given only when the frame ended inside `input`.
   */
  write(input: Buffer, emit: (out: Buffer) => void): number;
  /** True once the frame's last byte has been read and checked. */
  readonly finished: boolean;
  /** Releases native state (safe to call more than once). */
  end(): void;
}

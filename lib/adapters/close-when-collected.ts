/**
 * A point-in-time view holds something the process must get back (patched Map methods, open
 * file descriptors): a view whose source the application dropped without reading it to the end
 * is closed when that source is garbage-collected.
 */

/** What a view must offer to be closed as garbage. */
export interface Closable {
  close(): void;
}

const abandoned = new FinalizationRegistry<Closable>((view) => view.close());

/** Closes `view` once `owner` (the source handed to the application) is garbage. */
export function closeWhenCollected(owner: object, view: Closable): void {
  abandoned.register(owner, view, view);
}

/** Forgets {@link closeWhenCollected} for a view closed by hand. */
export function forgetOwner(view: Closable): void {
  abandoned.unregister(view);
}

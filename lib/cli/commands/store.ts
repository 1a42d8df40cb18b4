/**
 * `snapstream store ls|verify|restore|prune|delete --dir DIR`: a directory snapshot store from the
 * shell — the store commands of ./store-commands.ts on a {@link DirectorySnapshotStore}.
 */
import { DirectorySnapshotStore } from '../../store/directory-snapshot-store.js';
import { UsageError } from '../exit-codes.js';
import { storeCommand as commandFor } from './store-commands.js';

const directory = commandFor<DirectorySnapshotStore>({
  name: 'store',
  summary: 'list, verify, restore (newest that verifies, or --id), prune and delete snapshots in a store',
  flags: ['--dir'],
  flagsUsage: '--dir DIR',
  flagsFirst: true,
  async open(args) {
    const dir = args.values.get('--dir');
    if (!dir) throw new UsageError('--dir is required');
    return DirectorySnapshotStore.at(dir);
  },
  pending: (store) => store.pending.map((p) => ({ path: p.path, bytes: p.durableBytes, entries: p.entries })),
});

export const storeCommand = directory.command;
export const storeUsage = directory.usage;

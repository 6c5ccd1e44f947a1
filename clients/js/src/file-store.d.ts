import type { RoomsStore, SavedState } from "./index.js";

/** Keeps the client's outbox and last message id in a JSON file (Node.js). */
export class FileStore implements RoomsStore {
  constructor(path: string);
  load(): SavedState | null;
  save(state: SavedState): void;
}

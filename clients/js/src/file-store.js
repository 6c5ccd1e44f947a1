// A store for Node.js: the outbox and the last message id in a JSON file, written atomically (rename).
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export class FileStore {
  #path;
  constructor(path) { this.#path = path; }
  load() {
    try {
      return JSON.parse(readFileSync(this.#path, "utf8"));
    } catch (error) {
      if (error.code === "ENOENT") return null;
      throw error;
    }
  }
  save(state) {
    writeFileSync(`${this.#path}.tmp`, JSON.stringify(state));
    renameSync(`${this.#path}.tmp`, this.#path);
  }
}

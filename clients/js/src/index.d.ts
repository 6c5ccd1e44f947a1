/** Where a client keeps what must survive a restart: unacknowledged messages, the last message id, the room. */
export interface RoomsStore {
  load(): SavedState | null;
  save(state: SavedState): void;
}

export interface SavedState {
  roomId?: string;
  lastMessageId: string;
  outbox: { id: string; content: string; to?: string }[];
}

export class MemoryStore implements RoomsStore {
  load(): SavedState | null;
  save(state: SavedState): void;
}

export class LocalStorageStore implements RoomsStore {
  constructor(key?: string);
  load(): SavedState | null;
  save(state: SavedState): void;
}

export class RoomsError extends Error {
  /** The client message id the error is about, when it is about a send. */
  readonly id?: string;
}

export type RoomsState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

export interface RoomsClientOptions {
  /** Server addresses (nodes of one cluster); reconnects rotate through them. */
  urls: string[];
  deviceId: string;
  identity: string;
  /** The room to join; absent: the device's last room, or a new one. */
  roomId?: string;
  /** A device token (Auth:Mode=Token), or a function returning a fresh one for each identify. */
  token?: string | (() => string);
  /** Default: MemoryStore. LocalStorageStore in browsers, FileStore (rooms-client/file-store) in Node.js. */
  store?: RoomsStore;
  /** First reconnect delay cap (ms, default 250); doubles per attempt up to maxDelayMs (default 30 000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A connection that lasts this long (ms, default 10 000) resets the backoff. */
  stableAfterMs?: number;
  /** A WebSocket class (default: globalThis.WebSocket). */
  WebSocket?: unknown;
  /** Random numbers in [0, 1) for jitter and ids (tests pass their own). */
  random?: () => number;
}

export interface RoomsMessage {
  messageId: string;
  content: string;
  from: string;
  type: "broadcast" | "direct";
  timestamp: string;
}

export interface Ack {
  messageId: string;
  recipients: number;
}

export interface PresenceChange {
  joins: { deviceId: string; identity: string }[];
  leaves: { deviceId: string; identity: string }[];
}

export class RoomsClient {
  constructor(options: RoomsClientOptions);
  readonly state: RoomsState;
  readonly roomId: string | undefined;
  /** The room's other members, device id to identity. */
  readonly members: Map<string, string>;
  readonly lastMessageId: string | undefined;
  on(event: "message", listener: (message: RoomsMessage) => void): () => void;
  on(event: "presence", listener: (change: PresenceChange) => void): () => void;
  on(event: "members", listener: (members: Map<string, string>) => void): () => void;
  on(event: "typing", listener: (who: { deviceId: string; identity: string }) => void): () => void;
  on(event: "state", listener: (change: { state: RoomsState; reason?: string; attempt: number }) => void): () => void;
  /** Acks of messages sent by an earlier client with the same store (their send() promises are gone). */
  on(event: "ack", listener: (ack: Ack & { id: string }) => void): () => void;
  on(event: "error", listener: (error: Error) => void): () => void;
  connect(): Promise<{ roomId: string; status: "created_new" | "joined_existing" | "reconnected" }>;
  send(content: string, options?: { to?: string }): Promise<Ack>;
  history(options?: { before?: string; after?: string; latest?: boolean; limit?: number }): Promise<{ messages: RoomsMessage[]; hasMore: boolean }>;
  /** `clients`: device id to identity, as listed by the server (capped in a big room; `totalClients` stays exact). */
  queryRoom(): Promise<{ totalClients: number; clients: Map<string, string> }>;
  typing(): void;
  close(): Promise<void>;
}

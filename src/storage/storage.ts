/** One entry of a folder listing. */
export interface DirEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/**
 * The one interface over local disk and object stores (s3://, gs://, az://). Paths are the
 * user's own strings (a local path or a URL); implementations join with `join`.
 */
export interface Storage {
  /** Immediate children of a folder. Throws StorageError 'NOT_FOUND' when the folder is missing. */
  list(dir: string): Promise<DirEntry[]>;
  /** Whole file contents. */
  read(file: string): Promise<Buffer>;
  /** Existence and kind; undefined when missing. */
  stat(path: string): Promise<{ isDirectory: boolean; size: number; mtimeMs: number } | undefined>;
  join(dir: string, name: string): string;
  /**
   * A local folder holding `dir`'s files (local storage returns `dir` itself; object stores download
   * to a cache first). `release` removes what was downloaded.
   */
  localize(dir: string): Promise<{ path: string; release(): Promise<void> }>;
}

export class StorageError extends Error {
  constructor(readonly kind: 'NOT_FOUND' | 'ACCESS_DENIED' | 'UNAVAILABLE' | 'INVALID_PATH', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

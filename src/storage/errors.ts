/** Storage's failures, with a stable `code` callers branch on. */

export class StorageError extends Error {
  constructor(
    readonly code: 'not_found' | 'already_exists' | 'conflict' | 'read_only' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export class NotFoundError extends StorageError {
  constructor(kind: string, id: string) {
    super('not_found', `${kind} ${id} not found`);
  }
}

export class AlreadyExistsError extends StorageError {
  constructor(kind: string, id: string) {
    super('already_exists', `${kind} ${id} already exists`);
  }
}

/** The backend cannot be reached; callers answer 503, never a guess. */
export class StorageUnavailableError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

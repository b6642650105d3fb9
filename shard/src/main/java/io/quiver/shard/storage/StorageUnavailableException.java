package io.quiver.shard.storage;

/**
 * The WAL cannot make a record durable: a write or force failed earlier (the cause), or the log is closed.
 * Once a log has failed it stays failed until the process restarts and recovers from disk: a failed fsync
 * may have dropped dirty pages, so retrying and acknowledging would risk acknowledging lost data. The shard
 * maps this to {@code storage_unavailable} and goes degraded read-only.
 */
public final class StorageUnavailableException extends RuntimeException {

    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

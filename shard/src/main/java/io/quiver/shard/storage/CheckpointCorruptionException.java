package io.quiver.shard.storage;

import java.nio.file.Path;

/** A checkpoint file the manifest refers to is missing, truncated, fails its CRC or has the wrong header. */
public final class CheckpointCorruptionException extends StorageCorruptionException {

    public CheckpointCorruptionException(Path file, long offset, String detail) {
        super("checkpoint", file, offset, detail);
    }

    public CheckpointCorruptionException(Path file, long offset, String detail, Throwable cause) {
        super("checkpoint", file, offset, detail);
        initCause(cause);
    }
}

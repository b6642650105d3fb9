package io.quiver.shard.storage;

import java.nio.file.Path;

/** The shard metadata file is truncated, fails its CRC or does not parse. */
public final class ShardMetadataCorruptionException extends StorageCorruptionException {

    public ShardMetadataCorruptionException(Path file, long offset, String detail) {
        super("shard metadata", file, offset, detail);
    }
}

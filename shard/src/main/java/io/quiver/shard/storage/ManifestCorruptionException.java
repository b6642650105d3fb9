package io.quiver.shard.storage;

import java.nio.file.Path;

/** The checkpoint manifest is truncated, fails its CRC or does not parse. */
public final class ManifestCorruptionException extends StorageCorruptionException {

    public ManifestCorruptionException(Path file, long offset, String detail) {
        super("manifest", file, offset, detail);
    }
}

package io.quiver.shard.storage;

import java.nio.file.Path;

/** A WAL segment holds a bad record that is not a torn tail (see {@link WalSegment}). */
public final class WalCorruptionException extends StorageCorruptionException {

    public WalCorruptionException(Path file, long offset, String detail) {
        super("WAL segment", file, offset, detail);
    }
}

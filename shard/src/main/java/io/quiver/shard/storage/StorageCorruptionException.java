package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Bytes on disk that cannot be what this package wrote. The message always names the file and the byte
 * offset of the first bad byte (or of the structure that failed its check). A shard that meets one must
 * refuse to start rather than guess; an operator decides what to do with the file.
 */
public abstract class StorageCorruptionException extends IOException {

    private final transient Path file;
    private final long offset;

    protected StorageCorruptionException(String what, Path file, long offset, String detail) {
        super(what + " " + file + " is corrupt at offset " + offset + ": " + detail);
        this.file = Objects.requireNonNull(file, "file");
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}

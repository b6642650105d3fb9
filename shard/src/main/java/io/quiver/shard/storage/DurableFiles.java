package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Small file-system steps that every durable write in this package repeats. Stateless; thread-safe. */
final class DurableFiles {

    private DurableFiles() {
    }

    /**
     * Forces a directory so that creations, renames and deletions of its entries survive a power loss
     * (fsync on the directory's descriptor; works on Linux and macOS).
     */
    static void forceDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** rename(2): atomically replaces {@code target} with {@code source}. Not durable until the directory is forced. */
    static void atomicMove(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
    }

    static void writeFully(FileChannel channel, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            channel.write(src);
        }
    }

    static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, p);
            if (n < 0) {
                throw new java.io.EOFException("end of file at " + p + " while reading " + dst.remaining() + " more bytes");
            }
            p += n;
        }
    }
}

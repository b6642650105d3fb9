package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The shard metadata file, {@code <data>/SHARD}: what the shard knows apart from partition contents
 * (its collections, the partitions it owns and their ownership epochs, the operator read-only flag), as
 * an opaque document the engine encodes. All integers big-endian.
 *
 * <pre>
 *   0  int   magic     0x51534844 ("QSHD")
 *   4  int   version   CURRENT_VERSION (1)
 *   8  int   length    n, bytes of the document
 *  12  bytes document  (the engine's JSON, UTF-8)
 * 12+n int   crc       CRC32C of bytes 0 .. 12+n
 * </pre>
 *
 * Written like a checkpoint: {@code SHARD.tmp}, force, atomic rename, force the directory, so a crash
 * leaves either the old or the new document. A missing file is a fresh shard. Stateless; callers
 * serialise writes.
 */
public final class ShardMetadataFile {
    static final int MAGIC = 0x5153_4844;
    static final int CURRENT_VERSION = 1;

    private ShardMetadataFile() {
    }

    /** Replaces the document durably. */
    public static void write(StorageFiles files, byte[] document) throws IOException {
        Path target = files.shardMetadata();
        Path tmp = StorageFiles.temporaryFor(target);
        ByteBuffer buf = ByteBuffer.allocate(12 + document.length + 4);
        buf.putInt(MAGIC).putInt(CURRENT_VERSION).putInt(document.length).put(document);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue()).flip();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            DurableFiles.writeFully(ch, buf);
            ch.force(true);
        }
        DurableFiles.atomicMove(tmp, target);
        DurableFiles.forceDirectory(target.getParent());
    }

    /** The document, or empty for a fresh shard; a damaged file is a {@link ShardMetadataCorruptionException}. */
    public static Optional<byte[]> read(StorageFiles files) throws IOException {
        Path path = files.shardMetadata();
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        byte[] all = Files.readAllBytes(path);
        if (all.length < 16) {
            throw new ShardMetadataCorruptionException(path, 0, "shard metadata file is truncated (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all);
        int magic = buf.getInt();
        int version = buf.getInt();
        int length = buf.getInt();
        if (magic != MAGIC) {
            throw new ShardMetadataCorruptionException(path, 0, "not a shard metadata file (bad magic)");
        }
        if (version != CURRENT_VERSION) {
            throw new ShardMetadataCorruptionException(path, 4, "unsupported shard metadata version " + version);
        }
        if (length < 0 || 12L + length + 4 != all.length) {
            throw new ShardMetadataCorruptionException(path, 8, "shard metadata length " + length + " does not match the file size");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, 12 + length);
        int stored = ByteBuffer.wrap(all, 12 + length, 4).getInt();
        if (stored != (int) crc.getValue()) {
            throw new ShardMetadataCorruptionException(path, 12 + length, "shard metadata checksum mismatch");
        }
        byte[] doc = new byte[length];
        System.arraycopy(all, 12, doc, 0, length);
        return Optional.of(doc);
    }
}

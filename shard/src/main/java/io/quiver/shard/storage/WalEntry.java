package io.quiver.shard.storage;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A record to append: everything but the sequence, which the log assigns. The body's bytes between its
 * position and limit are copied during the append call; the buffer itself is not modified.
 * Immutable apart from the caller's buffer; not meant to be shared while the caller mutates the body.
 */
public record WalEntry(byte type, long collectionUid, int partition, ByteBuffer body) {

    public WalEntry {
        Objects.requireNonNull(body, "body");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must not be negative: " + partition);
        }
        if (body.remaining() > WalSegment.MAX_BODY_BYTES) {
            throw new IllegalArgumentException(
                    "record body of " + body.remaining() + " bytes exceeds " + WalSegment.MAX_BODY_BYTES);
        }
    }
}

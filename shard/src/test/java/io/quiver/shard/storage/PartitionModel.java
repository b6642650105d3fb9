package io.quiver.shard.storage;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A stand-in for the engine in tests: a partition's state is the list of values of the records applied to it,
 * in order, so "every record exactly once" is a list equality. A record body is an 8-byte value followed by
 * filler bytes. Not thread-safe.
 */
final class PartitionModel {

    final Map<PartitionKey, List<Long>> values = new TreeMap<>();

    static ByteBuffer body(long value, int filler) {
        ByteBuffer b = ByteBuffer.allocate(8 + filler);
        b.putLong(value);
        for (int i = 0; i < filler; i++) {
            b.put((byte) (value + i));
        }
        return b.flip();
    }

    static long value(ByteBuffer body) {
        return body.getLong(body.position());
    }

    void apply(WalRecord record) {
        values.computeIfAbsent(record.partitionKey(), k -> new ArrayList<>()).add(value(record.body()));
    }

    void add(PartitionKey key, long value) {
        values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    List<Long> of(PartitionKey key) {
        return values.getOrDefault(key, List.of());
    }

    StateWriter writerFor(PartitionKey key) {
        List<Long> snapshot = List.copyOf(of(key));
        return out -> write(out, snapshot);
    }

    private static void write(DataOutputStream out, List<Long> list) throws IOException {
        out.writeInt(list.size());
        for (long v : list) {
            out.writeLong(v);
        }
    }

    void load(PartitionKey key, long covered, DataInputStream in) throws IOException {
        int n = in.readInt();
        List<Long> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(in.readLong());
        }
        if (in.read() != -1) {
            throw new IOException("checkpoint of " + key + " has bytes after its state");
        }
        if (values.put(key, list) != null) {
            throw new IOException("checkpoint of " + key + " loaded twice");
        }
    }
}

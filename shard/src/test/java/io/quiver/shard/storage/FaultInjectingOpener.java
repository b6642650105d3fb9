package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ChannelOpener} whose channels can be made to fail writes (after writing part of the buffer, like a
 * disk filling up) or forces, or to hold every force at a gate. It also records, per file, how many bytes a
 * completed force covered, so a test can check acknowledgements against it independently of the log.
 * Thread-safe.
 */
public final class FaultInjectingOpener implements ChannelOpener {

    private volatile IOException writeFailure;
    private volatile IOException forceFailure;
    private volatile CountDownLatch forceGate;
    private final AtomicLong completedForces = new AtomicLong();
    private final Map<Path, AtomicLong> durableBytes = new ConcurrentHashMap<>();

    @Override
    public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
        return new Channel(path, FileChannel.open(path, options));
    }

    public void failWrites(IOException failure) {
        this.writeFailure = failure;
    }

    public void failForces(IOException failure) {
        this.forceFailure = failure;
    }

    /** Every force waits (at most 30 s) until the latch opens. */
    public void holdForces(CountDownLatch gate) {
        this.forceGate = gate;
    }

    public long completedForces() {
        return completedForces.get();
    }

    /** File size at the start of the latest completed force of this file. */
    long durableBytes(Path path) {
        AtomicLong d = durableBytes.get(path);
        return d == null ? 0 : d.get();
    }

    private final class Channel extends FileChannel {
        private final Path path;
        private final FileChannel delegate;

        Channel(Path path, FileChannel delegate) {
            this.path = path;
            this.delegate = delegate;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            IOException failure = writeFailure;
            if (failure != null) {
                int half = src.remaining() / 2;
                ByteBuffer part = src.duplicate().limit(src.position() + half);
                while (part.hasRemaining()) {
                    delegate.write(part);
                }
                throw failure;
            }
            return delegate.write(src);
        }

        @Override
        public void force(boolean metaData) throws IOException {
            CountDownLatch gate = forceGate;
            if (gate != null) {
                try {
                    if (!gate.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("test gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException();
                }
            }
            IOException failure = forceFailure;
            if (failure != null) {
                throw failure;
            }
            long covered = delegate.size();
            delegate.force(metaData);
            durableBytes.computeIfAbsent(path, p -> new AtomicLong()).accumulateAndGet(covered, Math::max);
            completedForces.incrementAndGet();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return delegate.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return delegate.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            throw new UnsupportedOperationException("not used by the WAL");
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            delegate.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            delegate.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return delegate.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException("not used by the WAL");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            throw new UnsupportedOperationException("not used by the WAL");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException("not used by the WAL");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return delegate.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return delegate.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            delegate.close();
        }
    }
}

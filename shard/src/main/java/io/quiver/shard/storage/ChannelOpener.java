package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * How the WAL opens its segment files. Production uses {@link #DEFAULT}; tests wrap the channel to make
 * {@code write} or {@code force} throw (disk full, EIO) or block. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface ChannelOpener {

    ChannelOpener DEFAULT = (path, options) -> FileChannel.open(path, options);

    FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException;
}

package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The only place that spells the names of a shard's storage files and directories.
 *
 * <pre>
 * &lt;data&gt;/
 *   wal/
 *     00000000000000000001.wal         segment whose first record has sequence 1 (20 digits, zero-padded)
 *     00000000000000004097.wal
 *   checkpoints/
 *     MANIFEST                         which checkpoint file holds each (collection uid, partition)
 *     MANIFEST.tmp                     a manifest being written (never read; removed by recovery)
 *     &lt;uid&gt;-&lt;partition&gt;-&lt;covered&gt;.ckpt   state of one partition covering WAL records up to &lt;covered&gt;
 *     &lt;...&gt;.ckpt.tmp                    a checkpoint being written (never read; removed by recovery)
 * </pre>
 *
 * The uid is printed unsigned on 20 digits, the partition on 10 and the covered sequence on 20, so names
 * sort like their numbers. Immutable and thread-safe; the listing methods read the directory as it is.
 */
public final class StorageFiles {

    static final String WAL_DIRECTORY = "wal";
    static final String CHECKPOINT_DIRECTORY = "checkpoints";
    static final String WAL_SUFFIX = ".wal";
    static final String CHECKPOINT_SUFFIX = ".ckpt";
    static final String TEMP_SUFFIX = ".tmp";
    static final String MANIFEST_NAME = "MANIFEST";
    static final String SHARD_METADATA_NAME = "SHARD";

    private static final Pattern SEGMENT_NAME = Pattern.compile("(\\d{20})" + Pattern.quote(WAL_SUFFIX));
    private static final Pattern CHECKPOINT_NAME =
            Pattern.compile("(\\d{20})-(\\d{10})-(\\d{20})" + Pattern.quote(CHECKPOINT_SUFFIX));

    private final Path dataDirectory;
    private final Path walDirectory;
    private final Path checkpointDirectory;

    public StorageFiles(Path dataDirectory) {
        this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
        this.walDirectory = dataDirectory.resolve(WAL_DIRECTORY);
        this.checkpointDirectory = dataDirectory.resolve(CHECKPOINT_DIRECTORY);
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public Path walDirectory() {
        return walDirectory;
    }

    public Path checkpointDirectory() {
        return checkpointDirectory;
    }

    public Path manifest() {
        return checkpointDirectory.resolve(MANIFEST_NAME);
    }

    /** The shard metadata file ({@link ShardMetadataFile}): collections, owned partitions, epochs. */
    public Path shardMetadata() {
        return dataDirectory.resolve(SHARD_METADATA_NAME);
    }

    /** Creates the data, WAL and checkpoint directories if they are missing. */
    public void createDirectories() throws IOException {
        Files.createDirectories(walDirectory);
        Files.createDirectories(checkpointDirectory);
    }

    // ---- WAL segments ----

    public static String segmentFileName(long firstSequence) {
        if (firstSequence <= 0) {
            throw new IllegalArgumentException("sequence must be positive: " + firstSequence);
        }
        return String.format("%020d", firstSequence) + WAL_SUFFIX;
    }

    public Path segment(long firstSequence) {
        return walDirectory.resolve(segmentFileName(firstSequence));
    }

    /** The first sequence a segment file name announces, or empty if the name is not a segment's. */
    public static OptionalLong segmentFirstSequence(Path file) {
        Matcher m = SEGMENT_NAME.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        try {
            long first = Long.parseLong(m.group(1));
            return first > 0 ? OptionalLong.of(first) : OptionalLong.empty();
        } catch (NumberFormatException tooLarge) {
            return OptionalLong.empty();
        }
    }

    /** First sequences of the segment files present in the WAL directory, ascending. */
    public List<Long> listSegments() throws IOException {
        List<Long> firsts = new ArrayList<>();
        for (Path p : list(walDirectory)) {
            segmentFirstSequence(p).ifPresent(firsts::add);
        }
        firsts.sort(null);
        return firsts;
    }

    // ---- checkpoints ----

    public static String checkpointFileName(PartitionKey key, long coveredSequence) {
        if (coveredSequence < 0) {
            throw new IllegalArgumentException("covered sequence must not be negative: " + coveredSequence);
        }
        return pad(Long.toUnsignedString(key.collectionUid()), 20) + "-"
                + pad(Integer.toString(key.partition()), 10) + "-"
                + pad(Long.toString(coveredSequence), 20) + CHECKPOINT_SUFFIX;
    }

    public Path checkpoint(PartitionKey key, long coveredSequence) {
        return checkpointDirectory.resolve(checkpointFileName(key, coveredSequence));
    }

    /** True if {@code name} is a bare checkpoint file name (no directory part) this class could have made. */
    public static boolean isCheckpointFileName(String name) {
        return CHECKPOINT_NAME.matcher(name).matches();
    }

    /** Checkpoint files (not temporaries, not the manifest) present in the checkpoint directory. */
    public List<Path> listCheckpointFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : list(checkpointDirectory)) {
            if (isCheckpointFileName(p.getFileName().toString())) {
                out.add(p);
            }
        }
        out.sort(null);
        return out;
    }

    // ---- temporaries ----

    /** The temporary a file is written to before it is atomically renamed to {@code target}. */
    public static Path temporaryFor(Path target) {
        return target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
    }

    public Path manifestTemporary() {
        return temporaryFor(manifest());
    }

    /** Temporary files left in the WAL and checkpoint directories, e.g. by a crash before a rename. */
    public List<Path> listTemporaryFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : List.of(dataDirectory, walDirectory, checkpointDirectory)) {
            for (Path p : list(dir)) {
                if (p.getFileName().toString().endsWith(TEMP_SUFFIX)) {
                    out.add(p);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                if (Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static String pad(String digits, int width) {
        return "0".repeat(Math.max(0, width - digits.length())) + digits;
    }

    @Override
    public String toString() {
        return "StorageFiles[" + dataDirectory + "]";
    }
}

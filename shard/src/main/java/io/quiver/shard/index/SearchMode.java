package io.quiver.shard.index;

import java.util.Locale;

/**
 * How a search runs: {@code EXACT} scans every live row, {@code ANN} walks the graph index (plus an exact
 * scan of rows not yet in the graph), {@code AUTO} lets the partition choose (see
 * {@link PartitionIndex}). A {@link SearchResult} reports the mode that actually ran (EXACT or ANN).
 */
public enum SearchMode {
    EXACT,
    ANN,
    AUTO;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Case-insensitive; "ivf" is an alias of "ann"; null means AUTO. */
    public static SearchMode parse(String value) {
        if (value == null) {
            return AUTO;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "exact" -> EXACT;
            case "ann", "ivf" -> ANN;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException(
                    "unknown search mode '" + value + "' (expected exact, ann, ivf or auto)");
        };
    }
}

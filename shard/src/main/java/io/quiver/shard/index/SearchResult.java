package io.quiver.shard.index;

import java.util.List;

/** The hits of one query, best first (ties by id ascending, unsigned), and the mode that actually ran. */
public record SearchResult(SearchMode mode, Metric metric, List<SearchHit> hits) {
    public SearchResult {
        hits = List.copyOf(hits);
    }
}

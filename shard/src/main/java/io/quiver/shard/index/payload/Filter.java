package io.quiver.shard.index.payload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A payload filter with Qdrant's semantics: every {@code must} clause matches, no {@code must_not} clause
 * matches, and at least {@code minimumShouldMatch} of the {@code should} clauses match (default 1 when
 * {@code should} is non-empty, else 0). An empty filter matches everything.
 *
 * <p>Immutable and thread-safe.
 */
public record Filter(List<FilterClause> must, List<FilterClause> should, List<FilterClause> mustNot,
                     int minimumShouldMatch) {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> FILTER_FIELDS = Set.of("must", "should", "must_not", "minimum_should_match");
    private static final Set<String> CLAUSE_FIELDS = Set.of("field", "value", "gt", "gte", "lt", "lte");

    public static final Filter MATCH_ALL = new Filter(List.of(), List.of(), List.of(), 0);

    public Filter {
        must = must == null ? List.of() : List.copyOf(must);
        should = should == null ? List.of() : List.copyOf(should);
        mustNot = mustNot == null ? List.of() : List.copyOf(mustNot);
        if (minimumShouldMatch < 0) {
            throw new IllegalArgumentException("minimum_should_match must be >= 0: " + minimumShouldMatch);
        }
    }

    /** A filter whose {@code minimumShouldMatch} defaults to 1 when {@code should} is non-empty. */
    public static Filter of(List<FilterClause> must, List<FilterClause> should, List<FilterClause> mustNot,
                            Integer minimumShouldMatch) {
        int msm = minimumShouldMatch != null ? minimumShouldMatch
                : (should == null || should.isEmpty() ? 0 : 1);
        return new Filter(must, should, mustNot, msm);
    }

    public static Filter must(FilterClause... clauses) {
        return new Filter(List.of(clauses), List.of(), List.of(), 0);
    }

    public boolean isEmpty() {
        return must.isEmpty() && mustNot.isEmpty() && minimumShouldMatch == 0;
    }

    public boolean matches(Payload payload) {
        for (int i = 0, n = must.size(); i < n; i++) {
            if (!must.get(i).matches(payload)) {
                return false;
            }
        }
        for (int i = 0, n = mustNot.size(); i < n; i++) {
            if (mustNot.get(i).matches(payload)) {
                return false;
            }
        }
        if (minimumShouldMatch > 0) {
            int matched = 0;
            for (int i = 0, n = should.size(); i < n; i++) {
                if (should.get(i).matches(payload) && ++matched >= minimumShouldMatch) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    /**
     * Parses the REST/gRPC JSON form {@code {"must":[clause],"should":[...],"must_not":[...],
     * "minimum_should_match"?}}.
     *
     * @throws IllegalArgumentException naming the offending part (unknown field, bad type, no bound)
     */
    public static Filter fromJson(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return MATCH_ALL;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("filter must be an object");
        }
        rejectUnknown(node, FILTER_FIELDS, "filter");
        Integer msm = null;
        JsonNode msmNode = node.get("minimum_should_match");
        if (msmNode != null && !msmNode.isNull()) {
            if (!msmNode.canConvertToInt() || !msmNode.isIntegralNumber()) {
                throw new IllegalArgumentException("minimum_should_match must be an integer");
            }
            msm = msmNode.intValue();
        }
        return of(clauses(node, "must"), clauses(node, "should"), clauses(node, "must_not"), msm);
    }

    public static Filter fromJson(String json) {
        try {
            return fromJson(MAPPER.readTree(json));
        } catch (IOException e) {
            throw new IllegalArgumentException("filter is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static List<FilterClause> clauses(JsonNode filter, String name) {
        JsonNode array = filter.get(name);
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw new IllegalArgumentException("filter." + name + " must be an array");
        }
        List<FilterClause> out = new ArrayList<>(array.size());
        for (JsonNode clause : array) {
            out.add(clause(clause, "filter." + name));
        }
        return out;
    }

    private static FilterClause clause(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + ": clause must be an object");
        }
        rejectUnknown(node, CLAUSE_FIELDS, where);
        JsonNode field = node.get("field");
        if (field == null || !field.isTextual()) {
            throw new IllegalArgumentException(where + ": clause needs a string \"field\"");
        }
        JsonNode value = node.get("value");
        boolean hasRange = node.has("gt") || node.has("gte") || node.has("lt") || node.has("lte");
        if (value != null && hasRange) {
            throw new IllegalArgumentException(where + ": clause on '" + field.textValue()
                    + "' has both a value and a range");
        }
        if (value != null) {
            Object v;
            if (value.isTextual()) {
                v = value.textValue();
            } else if (value.isNumber()) {
                v = value.doubleValue();
            } else if (value.isBoolean()) {
                v = value.booleanValue();
            } else {
                throw new IllegalArgumentException(where + ": value of '" + field.textValue()
                        + "' must be a string, number or boolean");
            }
            return FilterClause.match(field.textValue(), v);
        }
        if (!hasRange) {
            throw new IllegalArgumentException(where + ": clause on '" + field.textValue()
                    + "' needs a value or a range (gt, gte, lt, lte)");
        }
        return FilterClause.range(field.textValue(), bound(node, "gt", where), bound(node, "gte", where),
                bound(node, "lt", where), bound(node, "lte", where));
    }

    private static Double bound(JsonNode node, String name, String where) {
        JsonNode b = node.get(name);
        if (b == null || b.isNull()) {
            return null;
        }
        if (!b.isNumber()) {
            throw new IllegalArgumentException(where + ": " + name + " must be a number");
        }
        return b.doubleValue();
    }

    private static void rejectUnknown(JsonNode node, Set<String> allowed, String where) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException(where + ": unknown field '" + name + "'");
            }
        }
    }
}

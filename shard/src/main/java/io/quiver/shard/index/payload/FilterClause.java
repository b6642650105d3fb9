package io.quiver.shard.index.payload;

import java.util.List;
import java.util.Objects;

/**
 * One condition of a {@link Filter} on a top-level payload field: equality ({@link Match}) or a numeric
 * range ({@link Range}). A missing (or non-filterable) field never matches. When the payload value is an
 * array, the clause matches if any element matches (membership). Numbers compare as doubles; a string never
 * equals a number. Immutable and thread-safe.
 */
public sealed interface FilterClause {

    String field();

    boolean matches(Payload payload);

    static Match match(String field, Object value) {
        return new Match(field, value);
    }

    static Range range(String field, Double gt, Double gte, Double lt, Double lte) {
        return new Range(field, gt, gte, lt, lte);
    }

    /** {@code {"field","value"}}: the value is a String, a Number (held as Double) or a Boolean. */
    record Match(String field, Object value) implements FilterClause {
        public Match {
            Objects.requireNonNull(field, "field");
            if (value instanceof Number n) {
                value = n.doubleValue();
            } else if (!(value instanceof String || value instanceof Boolean)) {
                throw new IllegalArgumentException("filter value for field '" + field
                        + "' must be a string, number or boolean, got " + value);
            }
        }

        @Override
        public boolean matches(Payload payload) {
            Object actual = payload.field(field);
            if (actual instanceof List<?> list) {
                for (Object element : list) {
                    if (value.equals(element)) {
                        return true;
                    }
                }
                return false;
            }
            return actual != null && value.equals(actual);
        }
    }

    /** {@code {"field","gt"?,"gte"?,"lt"?,"lte"?}}: at least one bound; matches numbers only. */
    record Range(String field, Double gt, Double gte, Double lt, Double lte) implements FilterClause {
        public Range {
            Objects.requireNonNull(field, "field");
            if (gt == null && gte == null && lt == null && lte == null) {
                throw new IllegalArgumentException("range on field '" + field + "' has no bound");
            }
        }

        @Override
        public boolean matches(Payload payload) {
            Object actual = payload.field(field);
            if (actual instanceof Double d) {
                return inRange(d);
            }
            if (actual instanceof List<?> list) {
                for (Object element : list) {
                    if (element instanceof Double d && inRange(d)) {
                        return true;
                    }
                }
            }
            return false;
        }

        private boolean inRange(double v) {
            return (gt == null || v > gt) && (gte == null || v >= gte)
                    && (lt == null || v < lt) && (lte == null || v <= lte);
        }
    }
}

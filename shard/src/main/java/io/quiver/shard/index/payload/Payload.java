package io.quiver.shard.index.payload;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The payload of one point: the raw UTF-8 JSON bytes of its payload object, returned to clients as-is,
 * plus the filterable view of its flat top-level fields, parsed once when the payload is written.
 *
 * <p>Filterable values: a string ({@link String}), a number ({@link Double}, every JSON number is held
 * as a double), a boolean ({@link Boolean}) or an array of these (an unmodifiable {@link List}; elements
 * that are not scalars are skipped). A {@code null} value or a nested object is kept in the raw JSON
 * but is not filterable: to a filter, the field is missing.
 *
 * <p>Immutable and thread-safe. Field names are interned: points of a collection share their key strings,
 * so {@link #ramBytesUsed()} does not count them.
 */
public final class Payload {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final byte[] EMPTY_JSON = "{}".getBytes(StandardCharsets.UTF_8);
    private static final String[] NO_KEYS = new String[0];
    private static final Object[] NO_VALUES = new Object[0];

    /** The empty payload {@code {}}. */
    public static final Payload EMPTY = new Payload(EMPTY_JSON, NO_KEYS, NO_VALUES);

    private final byte[] json;
    private final String[] keys;      // sorted, interned
    private final Object[] values;    // parallel to keys

    private Payload(byte[] json, String[] keys, Object[] values) {
        this.json = json;
        this.keys = keys;
        this.values = values;
    }

    /**
     * Parses a payload from UTF-8 JSON. The bytes are kept as given (not re-serialised); an empty array
     * or the JSON {@code null} gives {@link #EMPTY}.
     *
     * @throws IllegalArgumentException if the bytes are not one JSON object
     */
    public static Payload fromJson(byte[] utf8Json) {
        if (utf8Json == null || utf8Json.length == 0) {
            return EMPTY;
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(utf8Json);
        } catch (IOException e) {
            throw new IllegalArgumentException("payload is not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || node.isNull() || node.isMissingNode()) {
            return EMPTY;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("payload must be a JSON object, got " + node.getNodeType());
        }
        return fromObjectNode((ObjectNode) node, utf8Json.clone());
    }

    public static Payload fromJson(String json) {
        return json == null ? EMPTY : fromJson(json.getBytes(StandardCharsets.UTF_8));
    }

    /** Builds a payload from an already parsed JSON object. */
    public static Payload fromJsonNode(ObjectNode node) {
        try {
            return fromObjectNode(node, MAPPER.writeValueAsBytes(node));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("payload cannot be serialised: " + e.getOriginalMessage(), e);
        }
    }

    private static Payload fromObjectNode(ObjectNode node, byte[] json) {
        List<String> keyList = new ArrayList<>(node.size());
        List<Object> valueList = new ArrayList<>(node.size());
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            Object value = filterableValue(field.getValue());
            if (value != null) {
                keyList.add(field.getKey().intern());
                valueList.add(value);
            }
        }
        if (keyList.isEmpty()) {
            return new Payload(json, NO_KEYS, NO_VALUES);
        }
        Integer[] order = new Integer[keyList.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> keyList.get(a).compareTo(keyList.get(b)));
        String[] keys = new String[order.length];
        Object[] values = new Object[order.length];
        for (int i = 0; i < order.length; i++) {
            keys[i] = keyList.get(order[i]);
            values[i] = valueList.get(order[i]);
        }
        return new Payload(json, keys, values);
    }

    private static Object filterableValue(JsonNode v) {
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isArray()) {
            List<Object> elements = new ArrayList<>(v.size());
            for (JsonNode element : v) {
                Object scalar = element.isArray() ? null : filterableValue(element);
                if (scalar != null) {
                    elements.add(scalar);
                }
            }
            return Collections.unmodifiableList(elements);
        }
        return null; // null, nested object: not filterable
    }

    /**
     * The filterable value of a top-level field: String, Double, Boolean, an unmodifiable List of those,
     * or null when the field is absent or not filterable.
     */
    public Object field(String name) {
        int i = Arrays.binarySearch(keys, name);
        return i >= 0 ? values[i] : null;
    }

    /** Names of the filterable fields, sorted. */
    public List<String> filterableFields() {
        return List.of(keys);
    }

    /** A copy of the raw UTF-8 JSON. */
    public byte[] json() {
        return json.clone();
    }

    /** A read-only view of the raw UTF-8 JSON, without copying. */
    public ByteBuffer jsonBuffer() {
        return ByteBuffer.wrap(json).asReadOnlyBuffer();
    }

    public int jsonLength() {
        return json.length;
    }

    public String jsonString() {
        return new String(json, StandardCharsets.UTF_8);
    }

    public boolean isEmpty() {
        return this == EMPTY || json.length <= 2 && keys.length == 0 && Arrays.equals(json, EMPTY_JSON);
    }

    /** This payload with the top-level fields of {@code patch} set (overwriting), as for payload/set. */
    public Payload merge(Payload patch) {
        if (patch == null || patch.isEmpty()) {
            return this;
        }
        ObjectNode merged = toObjectNode();
        merged.setAll(patch.toObjectNode());
        return fromJsonNode(merged);
    }

    /** This payload without the given top-level fields, as for payload/delete. */
    public Payload withoutKeys(Collection<String> names) {
        ObjectNode node = toObjectNode();
        boolean changed = false;
        for (String name : names) {
            changed |= node.remove(name) != null;
        }
        return changed ? fromJsonNode(node) : this;
    }

    /** The payload as a fresh, mutable Jackson tree. */
    public ObjectNode toObjectNode() {
        try {
            return (ObjectNode) MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("stored payload no longer parses", e);
        }
    }

    /** Estimated heap bytes held by this payload (raw JSON, parsed values; keys are shared). */
    public long ramBytesUsed() {
        if (this == EMPTY) {
            return 0;
        }
        long bytes = 16 + 16 + 16 + json.length + 2 * (16 + 4L * keys.length);
        for (Object value : values) {
            bytes += valueBytes(value);
        }
        return bytes;
    }

    private static long valueBytes(Object value) {
        if (value instanceof String s) {
            return 24 + 16 + s.length();
        }
        if (value instanceof Double) {
            return 16;
        }
        if (value instanceof List<?> list) {
            long bytes = 16 + 24 + 16 + 4L * list.size();
            for (Object element : list) {
                bytes += valueBytes(element);
            }
            return bytes;
        }
        return 0; // Boolean: shared constants
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Payload other && Arrays.equals(json, other.json);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(json);
    }

    @Override
    public String toString() {
        return jsonString();
    }
}

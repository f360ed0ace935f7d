package dev.caravan.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;

/**
 * An OTLP/HTTP trace receiver on loopback, as a collector would be run beside Caravan: it takes
 * {@code POST /v1/traces} (protobuf, gzip or not), answers as a collector does, and keeps every span.
 */
public final class OtlpReceiver implements AutoCloseable {

    /** A received span, its ids in hex as tracing tools show them. */
    public record ReceivedSpan(String traceId, String spanId, String parentSpanId, String name, String kind,
                               Map<String, Object> attributes, String statusCode, String service, String scope) {

        public Object attribute(String key) {
            return attributes.get(key);
        }
    }

    private final HttpServer server;
    private final List<ReceivedSpan> spans = new ArrayList<>();
    private int requests;

    public OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream raw = exchange.getRequestBody()) {
                InputStream body = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                        ? new GZIPInputStream(raw) : raw;
                ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body);
                receive(request);
                byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
                exchange.getResponseBody().write(answer);
            } catch (IOException | RuntimeException e) {
                exchange.sendResponseHeaders(400, -1);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    /** What OTEL_EXPORTER_OTLP_ENDPOINT says to reach this receiver. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private synchronized void receive(ExportTraceServiceRequest request) {
        requests++;
        HexFormat hex = HexFormat.of();
        for (ResourceSpans resource : request.getResourceSpansList()) {
            Object service = attributes(resource.getResource().getAttributesList()).get("service.name");
            for (ScopeSpans scope : resource.getScopeSpansList()) {
                for (var span : scope.getSpansList()) {
                    spans.add(new ReceivedSpan(hex.formatHex(span.getTraceId().toByteArray()),
                            hex.formatHex(span.getSpanId().toByteArray()),
                            span.getParentSpanId().isEmpty() ? null : hex.formatHex(span.getParentSpanId().toByteArray()),
                            span.getName(), span.getKind().name(), attributes(span.getAttributesList()),
                            span.getStatus().getCode().name(), String.valueOf(service), scope.getScope().getName()));
                }
            }
        }
    }

    private static Map<String, Object> attributes(List<KeyValue> list) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (KeyValue kv : list) {
            map.put(kv.getKey(), value(kv.getValue()));
        }
        return map;
    }

    private static Object value(AnyValue v) {
        return switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> v.getIntValue();
            case BOOL_VALUE -> v.getBoolValue();
            case DOUBLE_VALUE -> v.getDoubleValue();
            case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpReceiver::value).toList();
            default -> v.toString();
        };
    }

    public synchronized List<ReceivedSpan> spans() {
        return List.copyOf(spans);
    }

    public List<ReceivedSpan> spans(Predicate<ReceivedSpan> which) {
        return spans().stream().filter(which).toList();
    }

    /** How many export requests came. */
    public synchronized int requests() {
        return requests;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

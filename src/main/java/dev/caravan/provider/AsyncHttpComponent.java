package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import dev.caravan.ExchangeNames;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.support.DefaultAsyncProducer;
import org.apache.camel.support.DefaultComponent;
import org.apache.camel.support.DefaultEndpoint;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.nio.support.AsyncRequestBuilder;
import org.apache.hc.core5.http.nio.entity.AsyncEntityProducers;

/**
 * A route step that calls a provider without holding a thread while it waits:
 * {@code async-http:<url>?provider=openai&okStatusCodeRange=200-499}. The provider's
 * {@link AsyncProviderHttp} sends it (its pool, breaker, deadline and answer limit); the route goes on,
 * on a job thread, once the answer is in. What it sends and gives back is what camel-http's step did:
 * the message's headers (not Camel's own), its body, {@code CamelHttpUri} instead of the endpoint's URL
 * when set, {@code CamelHttpQuery} appended to the URL; the
 * answer's status as {@code CamelHttpResponseCode}, its headers, its body as bytes, and an
 * {@code HttpOperationFailedException} for a status outside the accepted range, so the routes' redelivery
 * policies and the error vocabulary (ProviderErrors) apply unchanged.
 */
public final class AsyncHttpComponent extends DefaultComponent {

    /** Where the rest of a route runs once its call is over (JobDispatcher: a job thread, the job's log context). */
    @FunctionalInterface
    public interface Continuation {
        void resume(Exchange exchange, Runnable rest);
    }

    private final Map<String, AsyncProviderHttp> clients;
    private final Continuation continuation;

    public AsyncHttpComponent(Map<String, AsyncProviderHttp> clients, Continuation continuation) {
        this.clients = Map.copyOf(clients);
        this.continuation = continuation;
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        CallEndpoint endpoint = new CallEndpoint(uri, this, remaining);
        setProperties(endpoint, parameters);
        if (clients.get(endpoint.getProvider()) == null) {
            throw new IllegalArgumentException(uri + ": provider must be one of " + clients.keySet());
        }
        return endpoint;
    }

    /** One provider URL; {@code provider} says whose client calls it. */
    public static final class CallEndpoint extends DefaultEndpoint {
        private final String target;
        private String provider;
        private String httpMethod = "POST";
        private int okLow = 200;
        private int okHigh = 299;

        CallEndpoint(String uri, AsyncHttpComponent component, String target) {
            super(uri, component);
            this.target = target;
        }

        public String getProvider() {
            return provider;
        }

        public void setProvider(String provider) {
            this.provider = provider;
        }

        public void setHttpMethod(String httpMethod) {
            this.httpMethod = httpMethod;
        }

        /** Statuses answered as answers, e.g. 200-499; others fail the step. */
        public void setOkStatusCodeRange(String range) {
            String[] parts = range.split("-");
            okLow = Integer.parseInt(parts[0].trim());
            okHigh = Integer.parseInt(parts[parts.length - 1].trim());
        }

        @Override
        public Producer createProducer() {
            return new CallProducer(this);
        }

        @Override
        public Consumer createConsumer(Processor processor) {
            throw new UnsupportedOperationException("async-http only sends");
        }

        @Override
        public boolean isSingleton() {
            return true;
        }

        String target() {
            return target;
        }

        AsyncHttpComponent component() {
            return (AsyncHttpComponent) getComponent();
        }
    }

    private static final class CallProducer extends DefaultAsyncProducer {
        private final CallEndpoint endpoint;

        CallProducer(CallEndpoint endpoint) {
            super(endpoint);
            this.endpoint = endpoint;
        }

        @Override
        public boolean process(Exchange exchange, AsyncCallback callback) {
            AsyncHttpComponent component = endpoint.component();
            AsyncProviderHttp http = component.clients.get(endpoint.provider);
            Message in = exchange.getMessage();
            // CamelHttpUri, as camel-http reads it, for an address that comes with the job (a webhook's)
            String target = in.getHeader(Exchange.HTTP_URI, endpoint.target, String.class);
            String query = in.getHeader(Exchange.HTTP_QUERY, String.class);
            String uri = query == null || query.isBlank() ? target : target + "?" + query;
            AsyncRequestBuilder request = AsyncRequestBuilder.create(endpoint.httpMethod).setUri(uri);
            for (Map.Entry<String, Object> h : in.getHeaders().entrySet()) {
                String name = h.getKey();
                if (h.getValue() != null && !name.regionMatches(true, 0, "Camel", 0, 5)
                        && !name.equalsIgnoreCase("Content-Type") && !name.equalsIgnoreCase("Content-Length")
                        && !name.equalsIgnoreCase("Host") && !name.equalsIgnoreCase("Transfer-Encoding")) {
                    request.addHeader(name, h.getValue().toString());
                }
            }
            try {
                org.apache.hc.core5.http.nio.AsyncEntityProducer body = entity(in);
                exchange.removeProperty(ExchangeNames.SENT_AT);
                // when the whole request is out: a token budget counts the call from then
                request.setEntity(body == null ? null : new SentEntity(body, at -> exchange.setProperty(ExchangeNames.SENT_AT, at)));
            } catch (Exception e) {
                exchange.setException(e);
                callback.done(true);
                return true;
            }
            AsyncProviderHttp.Call call = http.prepare(result -> component.continuation.resume(exchange, () -> {
                exchange.removeProperty(ExchangeNames.CANCEL_CALL);
                answer(exchange, uri, http, result);
                callback.done(false);
            }));
            // shutdown ends a job's run by cancelling the call it waits on (JobDispatcher.abandon)
            exchange.setProperty(ExchangeNames.CANCEL_CALL, (Runnable) call::cancel);
            call.send(request.build());
            return false;
        }

        /** The message's body as what the client sends: a document streamed as it goes, else its bytes. */
        private static org.apache.hc.core5.http.nio.AsyncEntityProducer entity(Message in) throws java.io.IOException {
            Object body = in.getBody();
            if (body == null) {
                return null;
            }
            if (body instanceof DocumentJson document) {
                return document.async();
            }
            org.apache.hc.core5.http.ContentType type = AsyncProviderHttp.contentType(in.getHeader("Content-Type", String.class));
            if (body instanceof org.apache.hc.core5.http.HttpEntity entity) {
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                entity.writeTo(bytes);
                return AsyncEntityProducers.create(bytes.toByteArray(), type);
            }
            return AsyncEntityProducers.create(in.getBody(byte[].class), type);
        }

        private void answer(Exchange exchange, String uri, AsyncProviderHttp http, AsyncProviderHttp.Result result) {
            if (result.failure() != null) {
                exchange.setException(result.failure());
                return;
            }
            AsyncProviderHttp.Answer a = result.answer();
            Message out = exchange.getMessage();
            // the request's headers (its key among them) do not stay on the message; Camel's own stay (the
            // redelivery counter is one of them)
            out.getHeaders().keySet().removeIf(name -> !name.regionMatches(true, 0, "Camel", 0, 5));
            // looked up by name whatever its case (Anthropic sends retry-after, others Retry-After)
            Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (Header h : a.headers()) {
                headers.put(h.getName(), h.getValue());
                out.setHeader(h.getName(), h.getValue());
            }
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, a.status());
            out.setHeader(Exchange.HTTP_RESPONSE_TEXT, a.reason());
            if (a.tooLarge()) {
                out.setHeader(ProviderAnswers.TOO_LARGE, http.maxResponseBytes());
                out.setBody(null);
                return;
            }
            out.setBody(a.body());
            if (a.status() < endpoint.okLow || a.status() > endpoint.okHigh) {
                exchange.setException(new HttpOperationFailedException(uri, a.status(), a.reason(), headers.get("Location"),
                        headers, new String(a.body(), StandardCharsets.UTF_8)));
            }
        }
    }
}

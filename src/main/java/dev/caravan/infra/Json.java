package dev.caravan.infra;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Caravan's JSON mapper, one for every class that reads or writes JSON. Its parse and write buffers
 * come from one shared pool and go back to it after each use: Jackson's default keeps about 40 KB of
 * them per thread for the thread's life, which a worker with a thousand job threads (each waiting
 * on a provider) pays a thousand times.
 */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
            .build());

    private Json() {
    }

    /** The shared mapper; configure a copy ({@code mapper().copy()}) rather than this one. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}

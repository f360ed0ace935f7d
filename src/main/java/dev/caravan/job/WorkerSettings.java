package dev.caravan.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who this worker is and which jobs it takes: its id, and the job types and lanes of its claim. By
 * default the types are every type that has a {@code direct:pipeline-<type>} route, so dropping a
 * route file in is all it takes to serve a new type.
 */
public final class WorkerSettings implements CamelContextAware {

    static final String PIPELINE_PREFIX = "direct://pipeline-";
    private static final Logger LOG = LoggerFactory.getLogger(WorkerSettings.class);

    private final String workerId;
    private final List<String> configuredTypes;
    private final String[] lanes;
    private volatile String[] jobTypes;
    private CamelContext context;

    public WorkerSettings(String workerId, List<String> configuredTypes, List<String> lanes) {
        this.workerId = workerId;
        this.configuredTypes = List.copyOf(configuredTypes);
        this.lanes = lanes.toArray(String[]::new);
    }

    public String workerId() {
        return workerId;
    }

    public String[] jobLanes() {
        return lanes.clone();
    }

    /** The job types this worker claims (WORKER_JOB_TYPES, or all types with a pipeline route). */
    public String[] jobTypes() {
        String[] types = jobTypes;
        if (types == null) {
            types = resolveTypes();
            jobTypes = types;
        }
        return types.clone();
    }

    /** Every job type this process has a pipeline route for, claimed here or not: registered at start-up. */
    public String[] pipelineTypes() {
        return typesServed(context.getRoutes()).toArray(String[]::new);
    }

    private synchronized String[] resolveTypes() {
        Set<String> pipelines = typesServed(context.getRoutes());
        if (configuredTypes.isEmpty()) {
            LOG.info("Worker {} claims every job type with a pipeline: {}", workerId, pipelines);
            return pipelines.toArray(String[]::new);
        }
        List<String> served = new ArrayList<>();
        for (String type : configuredTypes) {
            if (pipelines.contains(type)) {
                served.add(type);
            } else {
                LOG.error("WORKER_JOB_TYPES names '{}', but no route serves direct:pipeline-{}: this worker will not claim"
                        + " such jobs (pipelines here: {})", type, type, pipelines);
            }
        }
        LOG.info("Worker {} claims job types {}{}", workerId, served,
                lanes.length == 0 ? "" : " in lanes " + String.join(",", lanes));
        return served.toArray(String[]::new);
    }

    static Set<String> typesServed(List<Route> routes) {
        Set<String> types = new TreeSet<>();
        for (Route route : routes) {
            String uri = route.getEndpoint().getEndpointBaseUri();
            if (uri.startsWith(PIPELINE_PREFIX)) {
                types.add(uri.substring(PIPELINE_PREFIX.length()));
            }
        }
        return types;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}

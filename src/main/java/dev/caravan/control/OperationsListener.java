package dev.caravan.control;

import java.lang.management.ManagementFactory;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.caravan.api.RequestGate;
import dev.caravan.api.ServerRefusals;
import dev.caravan.health.HealthEndpoint;
import dev.caravan.health.ManagementGuard;
import org.apache.camel.CamelContext;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Once Camel runs: guards the management server (ManagementGuard), adds GET /health to it and registers the worker MBean
 * (when JMX is on); takes the MBean away again on stop, and closes the HTTP servers' Vert.x.
 */
public final class OperationsListener extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(OperationsListener.class);

    private ObjectName registered;

    @Override
    public void afterStart(BaseMainSupport main) {
        CamelContext context = main.getCamelContext();
        if (flag(context, "camel.server.enabled")) {
            int managementPort = flag(context, "camel.management.enabled") ? Integer.parseInt(context
                    .getPropertiesComponent().resolveProperty("camel.management.port").orElse("-1").trim()) : -1;
            ServerRefusals.install(context, managementPort);
            context.getRegistry().lookupByNameAndType("requestGate", RequestGate.class).install(context, managementPort);
        }
        if (flag(context, "camel.management.enabled")) {
            int port = Integer.parseInt(context.getPropertiesComponent().resolveProperty("camel.management.port").orElse("8080"));
            context.getRegistry().lookupByNameAndType("managementGuard", ManagementGuard.class).install(context, port);
            context.getRegistry().lookupByNameAndType("healthEndpoint", HealthEndpoint.class).install(context, port);
        }
        if (flag(context, "camel.main.jmx-enabled") || flag(context, "camel.main.jmxEnabled")) {
            WorkerControl control = context.getRegistry().lookupByNameAndType("workerControl", WorkerControl.class);
            try {
                ObjectName name = new ObjectName("dev.caravan:type=Worker,name=" + ObjectName.quote(control.getWorkerId()));
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                if (!server.isRegistered(name)) {
                    server.registerMBean(control, name);
                    registered = name;
                }
            } catch (Exception e) {
                LOG.warn("Worker MBean not registered: {}", e.getMessage());
            }
        }
    }

    @Override
    public void afterStop(BaseMainSupport main) {
        // the HTTP servers' Vert.x, once Camel has closed the servers on it
        if (main.getCamelContext() != null
                && main.getCamelContext().getRegistry().lookupByName("vertx") instanceof dev.caravan.http.HardenedVertx vertx) {
            vertx.shutdown();
        }
        if (registered != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(registered);
            } catch (Exception e) {
                LOG.debug("Worker MBean already gone: {}", e.getMessage());
            }
        }
    }

    private static boolean flag(CamelContext context, String key) {
        return Boolean.parseBoolean(context.getPropertiesComponent().resolveProperty(key).orElse("false").trim());
    }
}

package dev.caravan.job;

import java.lang.reflect.Method;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

import org.apache.camel.CamelContext;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The threads jobs run on. A job waiting on an asynchronous provider call (async-http) holds no
 * thread; one waiting on a blocking step (a camel-http call, a JDBC statement) holds its thread. On
 * JDK 24 and newer each job gets a virtual thread, which costs its stack's actual frames on the heap
 * (about 16 KB) while it waits; before that, platform threads, made as jobs need them and none is idle
 * (at most two per slot: the running jobs and those resuming after a call), idle ones ended after 30 s.
 * A platform thread blocked in a route costs at least 120 KB of native stack (the JVM touches 80 KB of
 * guard pages below every Java stack), which is why calls that wait long do not block one. Virtual
 * threads wait for JDK 24 because before it (JEP 491) a virtual thread blocking inside a synchronized
 * block pins its carrier, and with one carrier per core a few such jobs would stall the rest. Caravan is
 * built for JDK 17, so the JDK 21 API is reached by reflection.
 */
public final class JobThreads {

    /** caravan.worker.virtual-threads: auto (JDK 24+), true (JDK 21+), false. */
    public enum Mode { AUTO, TRUE, FALSE }

    private JobThreads() {
    }

    /** Whether jobs would run on virtual threads with this setting on this JDK. */
    public static boolean virtual(Mode mode) {
        int jdk = Runtime.version().feature();
        return switch (mode) {
            case AUTO -> jdk >= 24;
            case TRUE -> jdk >= 21;
            case FALSE -> false;
        };
    }

    /**
     * A thread per job, virtual, or a pool of up to twice {@code slots} platform threads owned by Camel
     * (shut down with the context).
     */
    public static ExecutorService create(CamelContext context, Object owner, int slots, Mode mode) throws Exception {
        if (virtual(mode)) {
            ExecutorService perJob = virtualPerTask();
            context.addService(new ServiceSupport() {
                @Override
                protected void doStop() {
                    perJob.shutdown(); // a job still running ends on its own; no new one starts
                }
            }, true);
            return perJob;
        }
        // no queue: a job goes to an idle thread or a new one, never waits behind another
        org.apache.camel.spi.ThreadPoolProfile profile = new org.apache.camel.builder.ThreadPoolProfileBuilder("caravan-job")
                .poolSize(1).maxPoolSize(2 * slots).maxQueueSize(0).keepAliveTime(30L).allowCoreThreadTimeOut(true)
                .rejectedPolicy(org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy.Abort).build();
        return context.getExecutorServiceManager().newThreadPool(owner, "caravan-job", profile);
    }

    private static ExecutorService virtualPerTask() {
        {
            try {
                Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
                Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
                builder = ofVirtual.getMethod("name", String.class, long.class).invoke(builder, "caravan-job-", 1L);
                Method factory = Class.forName("java.lang.Thread$Builder").getMethod("factory");
                ThreadFactory threads = (ThreadFactory) factory.invoke(builder);
                return (ExecutorService) Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class)
                        .invoke(null, threads);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("this JDK has no virtual threads: " + e, e);
            }
        }
    }
}

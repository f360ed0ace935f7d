package dev.caravan.config;

import org.apache.camel.model.DelayDefinition;
import org.apache.camel.model.ModelLifecycleStrategy;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;

/**
 * A route's {@code delay} sleeps on the thread that runs the job unless its file says otherwise
 * ({@code asyncDelayed: true}). Camel's default parks the exchange in a scheduler and resumes it on
 * one of its own threads, where shutdown cannot see that the job's run goes on: on the job's thread,
 * shutdown interrupts the sleep and knows when the run is over (WorkerLifecycle).
 */
final class SyncDelays implements ModelLifecycleStrategy {

    @Override
    public void onAddRouteDefinition(RouteDefinition route) {
        for (DelayDefinition delay : ProcessorDefinitionHelper.filterTypeInOutputs(route.getOutputs(), DelayDefinition.class)) {
            if (delay.getAsyncDelayed() == null) {
                delay.setAsyncDelayed("false");
            }
        }
    }

    @Override
    public void onRemoveRouteDefinition(RouteDefinition route) {
        // nothing kept
    }

    @Override
    public void onAddRouteTemplateDefinition(RouteTemplateDefinition template) {
        // routes made from templates pass onAddRouteDefinition
    }

    @Override
    public void onRemoveRouteTemplateDefinition(RouteTemplateDefinition template) {
        // nothing kept
    }
}

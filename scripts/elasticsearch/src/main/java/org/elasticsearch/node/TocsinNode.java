package org.elasticsearch.node;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;
import org.apache.lucene.util.SetOnce;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.elasticsearch.xcontent.XContentBuilder;

/**
 * Runs one Elasticsearch node in this JVM, configured by {@code -Ekey=value} arguments like the
 * elasticsearch command. Started by scripts/elasticsearch.ts; SIGTERM closes the node cleanly.
 *
 * <p>It sits in Elasticsearch's own package because a node only takes plugins from the classpath
 * (here transport-netty4, which serves HTTP) through the package-private NodeServiceProvider, the
 * hook the test framework's MockNode uses. The distribution's bootstrap (security manager, root
 * and bootstrap checks, server-cli) is not involved, nor are its other modules and x-pack.
 */
public final class TocsinNode extends Node {

    private TocsinNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader loader) {
                return new MockPluginsService(env.settings(), env, plugins);
            }
        }, true));
    }

    public static void main(String[] args) throws Exception {
        Settings.Builder builder = Settings.builder();
        boolean exitOnStdinClose = false;
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (arg.equals("--exit-on-stdin-close")) {
                exitOnStdinClose = true;
            } else if (arg.startsWith("-E") && eq > 2) {
                builder.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else {
                System.err.println("usage: TocsinNode [--exit-on-stdin-close] -Ekey=value...");
                System.exit(64);
            }
        }
        Settings settings = builder.build();
        configureLogging();

        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "tocsin-dev");
        Node node = new TocsinNode(environment, List.of(Netty4Plugin.class, RootPlugin.class));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, "tocsin-node-shutdown"));
        try {
            node.start();
        } catch (Exception e) {
            // Port taken, data locked by another node...: fail fast, the hook closes what started.
            e.printStackTrace();
            System.exit(1);
        }

        // The node's own threads are daemons: main keeps the JVM alive until a signal ends it.
        if (exitOnStdinClose) {
            // The parent holds our stdin open: if it dies without stopping us, do not linger.
            try {
                while (System.in.read() != -1) {
                    // Input is ignored.
                }
            } finally {
                System.exit(0);
            }
        }
        new CountDownLatch(1).await();
    }

    /** INFO and above to stdout, one line per event, as the distribution's console output. */
    private static void configureLogging() {
        LogConfigurator.configureESLogging();
        ConfigurationBuilder<BuiltConfiguration> config = ConfigurationBuilderFactory.newConfigurationBuilder();
        config.setStatusLevel(Level.ERROR);
        config.add(
            config.newAppender("console", "Console")
                .add(config.newLayout("PatternLayout").addAttribute("pattern", "[%d{ISO8601}][%-5p][%c{1.}] %m%n"))
        );
        config.add(config.newRootLogger(Level.INFO).add(config.newAppenderRef("console")));
        Configurator.initialize(config.build());
    }

    /**
     * {@code GET /} and {@code HEAD /}, which clients use to identify and ping the node: in the
     * distribution they come from the rest-root module, which is not published to Maven Central.
     */
    public static final class RootPlugin extends Plugin implements ActionPlugin {
        private final SetOnce<ClusterService> clusterService = new SetOnce<>();

        @Override
        public Collection<?> createComponents(PluginServices services) {
            clusterService.set(services.clusterService());
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(
            Settings settings,
            NamedWriteableRegistry namedWriteableRegistry,
            RestController restController,
            ClusterSettings clusterSettings,
            IndexScopedSettings indexScopedSettings,
            SettingsFilter settingsFilter,
            IndexNameExpressionResolver indexNameExpressionResolver,
            Supplier<DiscoveryNodes> nodesInCluster,
            Predicate<NodeFeature> clusterSupportsFeature
        ) {
            return List.of(new BaseRestHandler() {
                @Override
                public String getName() {
                    return "tocsin_root_action";
                }

                @Override
                public List<Route> routes() {
                    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
                }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    return channel -> {
                        ClusterState state = clusterService.get().state();
                        Build build = Build.current();
                        XContentBuilder body = channel.newBuilder();
                        if (request.hasParam("pretty") == false) {
                            body.prettyPrint().lfAtEnd();
                        }
                        body.startObject()
                            .field("name", clusterService.get().localNode().getName())
                            .field("cluster_name", state.getClusterName().value())
                            .field("cluster_uuid", state.metadata().clusterUUID())
                            .startObject("version")
                            .field("number", build.qualifiedVersion())
                            .field("build_flavor", build.flavor())
                            .field("build_type", build.type().displayName())
                            .field("build_hash", build.hash())
                            .field("build_date", build.date())
                            .field("build_snapshot", build.isSnapshot())
                            .field("lucene_version", org.apache.lucene.util.Version.LATEST.toString())
                            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                            .endObject()
                            .field("tagline", "You Know, for Search")
                            .endObject();
                        channel.sendResponse(new RestResponse(RestStatus.OK, body));
                    };
                }
            });
        }
    }
}

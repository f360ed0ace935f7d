package dev.caravan.outbound;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * Where calls to addresses taken from job payloads may go (a webhook's url, a document's file_url):
 * whoever may submit jobs chooses them, so by default not into the worker's own network. A name is
 * resolved, then every address checked, before any connection is made (so a name that resolves to an
 * internal address is caught, and a redirect is checked again at its own resolution): loopback,
 * link-local (169.254.169.254, the cloud metadata address), private and unique-local ranges, carrier-
 * grade NAT, multicast and unspecified addresses are refused unless OUTBOUND_ALLOW names the host or
 * a CIDR holding the address. Plugged into HttpClient as its DNS resolver.
 */
public final class OutboundPolicy implements DnsResolver {

    /** A destination the policy refuses: permanent, named OUTBOUND_REFUSED. */
    public static final class OutboundRefused extends UnknownHostException {
        OutboundRefused(String message) {
            super(message);
        }
    }

    private final Set<String> hosts;
    private final List<Cidr> cidrs;

    /** @param allow host names and CIDRs (10.0.0.0/8, 127.0.0.1/32, fd00::/8) that may be called anyway */
    public OutboundPolicy(List<String> allow) {
        List<Cidr> ranges = new ArrayList<>();
        for (String entry : allow) {
            if (isAddress(entry)) {
                ranges.add(Cidr.parse(entry));
            }
        }
        this.cidrs = ranges;
        this.hosts = allow.stream().filter(e -> !isAddress(e))
                .map(e -> e.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /** An address or a CIDR, not a host name (which is never looked up here). */
    private static boolean isAddress(String entry) {
        return entry.contains("/") || entry.contains(":") || entry.matches("[0-9.]+");
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] all = SystemDefaultDnsResolver.INSTANCE.resolve(host);
        if (hosts.contains(host.toLowerCase(Locale.ROOT))) {
            return all;
        }
        List<InetAddress> allowed = new ArrayList<>();
        String refused = null;
        for (InetAddress address : all) {
            String kind = internal(address);
            if (kind == null || cidrs.stream().anyMatch(c -> c.contains(address))) {
                allowed.add(address);
            } else if (refused == null) {
                refused = address.getHostAddress() + ", " + kind;
            }
        }
        if (allowed.isEmpty()) {
            throw new OutboundRefused(host + " resolves to " + refused + " address: calls from job payloads may not"
                    + " go there (OUTBOUND_ALLOW lists hosts and CIDRs that may)");
        }
        return allowed.toArray(InetAddress[]::new);
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return SystemDefaultDnsResolver.INSTANCE.resolveCanonicalHostname(host);
    }

    /** Checks a host the way a connection would; for callers that connect by other means. */
    public void check(String host) throws UnknownHostException {
        resolve(host);
    }

    /** What kind of internal address this is, or null for an address on the internet. */
    static String internal(InetAddress address) {
        InetAddress a = address;
        if (a instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
                try {
                    a = InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}); // ::ffff:a.b.c.d
                } catch (UnknownHostException impossible) {
                    return "an unreadable";
                }
            } else if ((b[0] & 0xfe) == 0xfc) {
                return "a unique-local (private)";
            }
        }
        if (a.isLoopbackAddress()) {
            return "a loopback";
        }
        if (a.isLinkLocalAddress()) {
            return "a link-local";
        }
        if (a.isSiteLocalAddress()) {
            return "a private";
        }
        if (a.isAnyLocalAddress()) {
            return "an unspecified";
        }
        if (a.isMulticastAddress()) {
            return "a multicast";
        }
        if (a instanceof Inet4Address) {
            byte[] b = a.getAddress();
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 0 || (first == 100 && second >= 64 && second < 128) || (first == 192 && second == 0 && (b[2] & 0xff) == 0)
                    || first >= 240) {
                return "a reserved";
            }
        }
        return null;
    }

    /** An address range. */
    record Cidr(byte[] network, int bits) {

        static Cidr parse(String text) {
            String[] parts = text.trim().split("/");
            try {
                byte[] network = InetAddress.getByName(parts[0]).getAddress();
                int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : network.length * 8;
                return new Cidr(network, bits);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("OUTBOUND_ALLOW: '" + text + "' is neither a host name nor a CIDR");
            }
        }

        boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            int whole = bits / 8;
            for (int i = 0; i < whole; i++) {
                if (a[i] != network[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            return rest == 0 || ((a[whole] ^ network[whole]) & (0xff << (8 - rest))) == 0;
        }
    }
}

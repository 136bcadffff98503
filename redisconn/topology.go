package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mode is how Reflex reaches Redis.
type Mode string

// The modes of a Redis connection, by the scheme of REDIS_URL.
const (
	// ModeEmbedded is the in-memory server, without REDIS_URL.
	ModeEmbedded Mode = "embedded"
	// ModeSingle is one server: redis:// or rediss://.
	ModeSingle Mode = "single"
	// ModeSentinel is the primary that Sentinel names, followed through
	// failovers: redis-sentinel:// or rediss-sentinel://.
	ModeSentinel Mode = "sentinel"
	// ModeCluster is a Redis Cluster: redis-cluster:// or rediss-cluster://.
	ModeCluster Mode = "cluster"
)

// Default ports of the hosts of a URL that names several.
const (
	sentinelPort = "26379"
	clusterPort  = "6379"
)

// settings are the client options a REDIS_URL names, of one mode.
type settings struct {
	mode     Mode
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// errURL is an error of a REDIS_URL that says nothing of its credentials.
var errURL = errors.New("not a redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster:// URL")

// parse reads a REDIS_URL into client options, with Reflex's timeouts and
// pool size unless the URL sets them. Its errors may quote the URL, which
// the caller redacts.
func parse(rawURL string) (*settings, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, errURL
	}
	var set settings
	var err error
	switch scheme {
	case "redis", "rediss", "unix":
		set.mode = ModeSingle
		if set.single, err = redis.ParseURL(rawURL); err == nil {
			o := set.single
			defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolSize)
		}
	case "redis-sentinel", "rediss-sentinel":
		set.mode = ModeSentinel
		if set.failover, err = parseSentinel(rawURL, strings.TrimSuffix(scheme, "-sentinel")); err == nil {
			o := set.failover
			defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolSize)
		}
	case "redis-cluster", "rediss-cluster":
		set.mode = ModeCluster
		if set.cluster, err = parseCluster(rawURL, strings.TrimSuffix(scheme, "-cluster")); err == nil {
			o := set.cluster
			defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolSize)
		}
	default:
		return nil, errURL
	}
	if err != nil {
		return nil, err
	}
	return &set, nil
}

// defaults sets Reflex's timeouts, and its pool size unless the URL set
// one.
func defaults(dial, read, write *time.Duration, pool *int) {
	*dial, *read, *write = dialTimeout, readTimeout, writeTimeout
	if *pool == 0 {
		*pool = PoolSize
	}
}

// multiHost is a URL whose authority lists several hosts, split: the
// URL with the first host alone, and every host as host:port.
type multiHost struct {
	u     *url.URL
	hosts []string
}

// splitHosts parses a URL whose authority names hosts separated by
// commas, each with defaultPort when it has no port, giving it the scheme
// go-redis knows it by.
func splitHosts(rawURL, scheme, defaultPort string) (*multiHost, error) {
	p, ok := splitURL(rawURL)
	if !ok {
		return nil, errURL
	}
	hostList, userinfo := p.hosts, ""
	if p.userinfo != "" {
		userinfo = p.userinfo + "@"
	}
	var hosts []string
	for h := range strings.SplitSeq(hostList, ",") {
		if h == "" {
			return nil, errors.New("a host of the list is empty")
		}
		if host, port, err := net.SplitHostPort(h); err == nil {
			if n, err := strconv.Atoi(port); host == "" || err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("host %q is not host:port", h)
			}
			hosts = append(hosts, net.JoinHostPort(host, port))
			continue
		}
		if strings.Contains(strings.Trim(h, "[]"), ":") && !strings.HasPrefix(h, "[") {
			return nil, fmt.Errorf("host %q is not host:port ([host]:port for IPv6)", h)
		}
		hosts = append(hosts, net.JoinHostPort(strings.Trim(h, "[]"), defaultPort))
	}
	tail := p.path
	if p.hasQuery {
		tail += "?" + p.query
	}
	u, err := url.Parse(scheme + "://" + userinfo + hosts[0] + tail + p.fragment)
	if err != nil {
		return nil, err
	}
	return &multiHost{u: u, hosts: hosts}, nil
}

// parseSentinel reads redis-sentinel://[user:pass@]host1:26379,host2/db?master=name:
// the hosts are the Sentinels, the credentials those of the primary and
// its replicas (the Sentinels' own, if any, are sentinel_username and
// sentinel_password), and master (or master_name) the name the
// Sentinels monitor the primary by. Other parameters are go-redis's
// (redis.ParseFailoverURL).
func parseSentinel(rawURL, scheme string) (*redis.FailoverOptions, error) {
	m, err := splitHosts(rawURL, scheme, sentinelPort)
	if err != nil {
		return nil, err
	}
	q := m.u.Query()
	master := q.Get("master")
	if master == "" {
		master = q.Get("master_name")
	}
	if master == "" {
		return nil, errors.New("the master parameter is missing: the name the Sentinels monitor the primary by (?master=mymaster)")
	}
	q.Del("master")
	q.Set("master_name", master)
	if m.u.User != nil {
		q.Set("username", m.u.User.Username())
		if pw, ok := m.u.User.Password(); ok {
			q.Set("password", pw)
		}
	}
	m.u.User = nil
	if user, pw := q.Get("sentinel_username"), q.Get("sentinel_password"); user != "" || pw != "" {
		m.u.User = url.UserPassword(user, pw)
	}
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Del("addr")
	for _, h := range m.hosts[1:] {
		q.Add("addr", h)
	}
	m.u.RawQuery = q.Encode()
	return redis.ParseFailoverURL(m.u.String())
}

// parseCluster reads redis-cluster://[user:pass@]host1:6379,host2:6379: a
// few of the cluster's nodes, from which the client learns the rest.
// A cluster has one database, so the path names none (or 0). Other
// parameters are go-redis's (redis.ParseClusterURL).
func parseCluster(rawURL, scheme string) (*redis.ClusterOptions, error) {
	m, err := splitHosts(rawURL, scheme, clusterPort)
	if err != nil {
		return nil, err
	}
	if p := strings.Trim(m.u.Path, "/"); p != "" && p != "0" {
		return nil, fmt.Errorf("a Redis Cluster has only database 0, not %q", p)
	}
	m.u.Path = ""
	q := m.u.Query()
	q.Del("addr")
	for _, h := range m.hosts[1:] {
		q.Add("addr", h)
	}
	m.u.RawQuery = q.Encode()
	return redis.ParseClusterURL(m.u.String())
}

// newClient opens the client of the settings.
func (s *settings) newClient() redis.UniversalClient {
	switch s.mode {
	case ModeSentinel:
		return redis.NewFailoverClient(s.failover)
	case ModeCluster:
		return redis.NewClusterClient(s.cluster)
	}
	return redis.NewClient(s.single)
}

// askSentinels tells why the primary could not be reached through the
// Sentinels: what each Sentinel answers when asked for the primary's
// address, or the primary's own error when they name it.
func askSentinels(ctx context.Context, o *redis.FailoverOptions, pingErr error) error {
	var errs []error
	for _, addr := range o.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{
			Addr: addr, Username: o.SentinelUsername, Password: o.SentinelPassword, TLSConfig: o.TLSConfig,
			DialTimeout: dialTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout, MaxRetries: -1,
		})
		actx, cancel := context.WithTimeout(ctx, dialTimeout)
		primary, err := sc.GetMasterAddrByName(actx, o.MasterName).Result()
		cancel()
		_ = sc.Close()
		switch {
		case errors.Is(err, redis.Nil):
			errs = append(errs, fmt.Errorf("sentinel %s monitors no primary named %q", addr, o.MasterName))
		case err != nil:
			errs = append(errs, fmt.Errorf("sentinel %s: %w", addr, err))
		default:
			return fmt.Errorf("sentinel %s names the primary %s: %w", addr, net.JoinHostPort(primary[0], primary[1]), pingErr)
		}
	}
	return errors.Join(errs...)
}

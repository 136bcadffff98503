package redisconn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is what a test compares of the options a URL gives.
type summary struct {
	Mode                         Mode
	Addrs                        []string
	Master                       string
	DB                           int
	Username, Password           string
	SentinelUser, SentinelPasswd string
	TLS                          bool
	PoolSize                     int
}

func summarize(s *settings) summary {
	switch s.mode {
	case ModeSentinel:
		o := s.failover
		return summary{Mode: s.mode, Addrs: o.SentinelAddrs, Master: o.MasterName, DB: o.DB, Username: o.Username, Password: o.Password,
			SentinelUser: o.SentinelUsername, SentinelPasswd: o.SentinelPassword, TLS: o.TLSConfig != nil, PoolSize: o.PoolSize}
	case ModeCluster:
		o := s.cluster
		return summary{Mode: s.mode, Addrs: o.Addrs, Username: o.Username, Password: o.Password, TLS: o.TLSConfig != nil, PoolSize: o.PoolSize}
	}
	o := s.single
	return summary{Mode: s.mode, Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password, TLS: o.TLSConfig != nil, PoolSize: o.PoolSize}
}

func TestParse(t *testing.T) {
	tests := []struct {
		url  string
		want summary
	}{
		{"redis://:pw@db:6380/2", summary{Mode: ModeSingle, Addrs: []string{"db:6380"}, DB: 2, Password: "pw", PoolSize: PoolSize}},
		{"rediss://u:pw@db/0?pool_size=7", summary{Mode: ModeSingle, Addrs: []string{"db:6379"}, Username: "u", Password: "pw", TLS: true, PoolSize: 7}},
		{"redis-sentinel://s1:26379,s2:26380,s3/3?master=mymaster", summary{Mode: ModeSentinel,
			Addrs: []string{"s1:26379", "s2:26380", "s3:26379"}, Master: "mymaster", DB: 3, PoolSize: PoolSize}},
		{"redis-sentinel://app:p%40ss@s1,[::1]:26390/0?master_name=m&sentinel_password=sp", summary{Mode: ModeSentinel,
			Addrs: []string{"s1:26379", "[::1]:26390"}, Master: "m", Username: "app", Password: "p@ss", SentinelPasswd: "sp", PoolSize: PoolSize}},
		{"rediss-sentinel://:pw@s1?master=m&sentinel_username=su&sentinel_password=sp&pool_size=9", summary{Mode: ModeSentinel,
			Addrs: []string{"s1:26379"}, Master: "m", Password: "pw", SentinelUser: "su", SentinelPasswd: "sp", TLS: true, PoolSize: 9}},
		{"redis-cluster://n1:7000,n2:7001,n3", summary{Mode: ModeCluster, Addrs: []string{"n1:7000", "n2:7001", "n3:6379"}, PoolSize: PoolSize}},
		{"rediss-cluster://u:pw@n1:7000/0", summary{Mode: ModeCluster, Addrs: []string{"n1:7000"}, Username: "u", Password: "pw", TLS: true, PoolSize: PoolSize}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(s)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSetsTimeouts(t *testing.T) {
	for _, u := range []string{"redis://db", "redis-sentinel://s?master=m", "redis-cluster://n"} {
		s, err := parse(u)
		if err != nil {
			t.Fatal(err)
		}
		type timeouts struct{ Dial, Read, Write string }
		var got timeouts
		switch s.mode {
		case ModeSentinel:
			got = timeouts{s.failover.DialTimeout.String(), s.failover.ReadTimeout.String(), s.failover.WriteTimeout.String()}
		case ModeCluster:
			got = timeouts{s.cluster.DialTimeout.String(), s.cluster.ReadTimeout.String(), s.cluster.WriteTimeout.String()}
		default:
			got = timeouts{s.single.DialTimeout.String(), s.single.ReadTimeout.String(), s.single.WriteTimeout.String()}
		}
		want := timeouts{dialTimeout.String(), readTimeout.String(), writeTimeout.String()}
		if got != want {
			t.Errorf("%s: timeouts %+v, want %+v", u, got, want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis-sentinel://s1,s2/0", "master parameter is missing"},
		{"redis-sentinel://s1,,s2?master=m", "empty"},
		{"redis-sentinel://s1:port?master=m", `"s1:port" is not host:port`},
		{"redis-sentinel://s1?master=m&nonsense=1", "unexpected option: nonsense"},
		{"redis-cluster://n1/3", "only database 0"},
		{"redis-cluster://n1?bogus=1", "unexpected option: bogus"},
		{"redis-cluster://::1:7000", "is not host:port"},
		{"memcached://x", "not a redis://"},
		{"no scheme", "not a redis://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := parse(tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNewClientOfEachMode(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis://db", "*redis.Client"},
		{"redis-sentinel://s?master=m", "*redis.Client"}, // go-redis's failover client is a Client
		{"redis-cluster://n", "*redis.ClusterClient"},
	}
	for _, tt := range tests {
		s, err := parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		c := s.newClient()
		if got := fmt.Sprintf("%T", c); got != tt.want {
			t.Errorf("%s: client %s, want %s", tt.url, got, tt.want)
		}
		_ = c.Close()
	}
}

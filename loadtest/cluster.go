package loadtest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ValkeyCluster is a cluster of three masters gridload started on loopback:
// three servers with the durability settings of Valkey and
// --cluster-enabled yes, joined by redis-cli --cluster create.
type ValkeyCluster struct {
	Nodes []*Valkey
}

// ValkeyCluster starts the three servers and joins them, waiting until
// every node says cluster_state:ok.
func (s *Setup) ValkeyCluster(ctx context.Context) (*ValkeyCluster, error) {
	cli := ""
	for _, name := range []string{"valkey-cli", "redis-cli"} {
		if p, err := exec.LookPath(name); err == nil {
			cli = p
			break
		}
	}
	if cli == "" {
		return nil, fmt.Errorf("a cluster needs valkey-cli or redis-cli on PATH")
	}
	c := &ValkeyCluster{}
	for i := range 3 {
		name := fmt.Sprintf("valkey-c%d", i)
		v, err := s.startValkey(ctx, name, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(s.Dir, name, "nodes.conf"), "--cluster-node-timeout", "5000")
		if err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, v)
	}
	args := append([]string{"--cluster", "create"}, strings.Split(c.Addr(), ",")...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", cli, strings.Join(args, " "), err, out)
	}
	for _, v := range c.Nodes {
		host, port, _ := strings.Cut(v.Addr, ":")
		ok := false
		for range 200 {
			out, err := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "cluster", "info").Output()
			if ok = err == nil && strings.Contains(string(out), "cluster_state:ok"); ok {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if !ok {
			return nil, fmt.Errorf("cluster node %s never said cluster_state:ok", v.Addr)
		}
	}
	return c, nil
}

// Addr is the nodes' addresses, comma-separated (InstanceOptions.Valkey).
func (c *ValkeyCluster) Addr() string {
	addrs := make([]string, len(c.Nodes))
	for i, v := range c.Nodes {
		addrs[i] = v.Addr
	}
	return strings.Join(addrs, ",")
}

// usedMemory is the sum of the nodes' used_memory.
func (c *ValkeyCluster) usedMemory() (int64, error) {
	var sum int64
	for _, v := range c.Nodes {
		n, err := v.usedMemory()
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

/** The Cluster file the view starts with: small, commented, and valid on its own. */
export const SAMPLE_CLUSTER = `# A sample Cluster file: edit it for your site (docs/cluster.md lists every field).
# Three control planes with stacked etcd, spread over zones and racks, and three workers.
apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: sample
spec:
  distribution: kubeadm        # kubeadm, k3s or rke2
  version: v1.34.1
  controlPlane:
    count: 3                   # 1, 3 or 5
    machines: { minCpu: 4 }    # pool, tags, zones, racks, minCpu, minMemoryGiB, minDiskGiB, minGpus
  workers:
    - name: general
      count: 3
      machines: { minMemoryGiB: 16 }
  placement:
    tolerate: [zone, rack]     # etcd must keep quorum when any one of these is lost
  endpoint:
    address: 10.20.0.20        # the API VIP: a free address in the node subnet
  networking:
    nodeSubnets:
      - subnet: provisioning   # the subnet node addresses come from
`;

/**
 * The node agent as it goes onto a deployed machine: the script, its task files and the two
 * helpers it shares with the ephemeral OS's agent (src/agent/guest/lib/json.sh, rack.sh), and
 * its systemd unit, enabled. The boot image carries them under NODE_AGENT_STAGE and the deploy
 * (write-image's install_node_agent) copies them into every OS it writes that runs systemd — so
 * a new node agent needs no new OS image, and every deployed OS has the one its rack speaks.
 */
import { readFileSync } from 'node:fs';

const HERE = new URL('./', import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, HERE), 'utf8');

export const NODE_AGENT_PATH = '/usr/local/sbin/ingot-node-agent';
export const NODE_AGENT_UNIT = 'ingot-node-agent.service';
/** Where the helpers and task files go (the script's INGOT_AGENT_SHARE default). */
export const NODE_AGENT_SHARE = '/usr/share/ingot/agent';
/** Where the boot image keeps them, as a tree rooted like the deployed OS (write-image.sh). */
export const NODE_AGENT_STAGE = '/usr/share/ingot/node-agent';

export interface NodeAgentFile {
  readonly content: string;
  readonly mode: number;
}

/** Path on the node → content and mode. */
export function nodeAgentFiles(): Record<string, NodeAgentFile> {
  return {
    [NODE_AGENT_PATH]: { content: read('ingot-node-agent'), mode: 0o755 },
    [`${NODE_AGENT_SHARE}/lib/json.sh`]: { content: read('../guest/lib/json.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/lib/rack.sh`]: { content: read('../guest/lib/rack.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/bootstrap.sh`]: { content: read('tasks/bootstrap.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/join-token.sh`]: { content: read('tasks/join-token.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/facts.sh`]: { content: read('tasks/facts.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/heartbeat.sh`]: { content: read('tasks/heartbeat.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/smart.sh`]: { content: read('tasks/smart.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/etcd.sh`]: { content: read('tasks/etcd.sh'), mode: 0o644 },
    [`${NODE_AGENT_SHARE}/node/restart-apiserver.sh`]: {
      content: read('tasks/restart-apiserver.sh'),
      mode: 0o644,
    },
    [`/etc/systemd/system/${NODE_AGENT_UNIT}`]: { content: read(NODE_AGENT_UNIT), mode: 0o644 },
  };
}

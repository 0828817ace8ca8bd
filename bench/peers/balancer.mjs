// A TCP round-robin balancer for the multi-node rows of the peer benchmark: listens on PORT and
// hands each connection to the next of the target ports (all on 127.0.0.1), piping both ways.
// Usage: node balancer.mjs PORT TARGET_PORT...
import net from 'node:net';

const [port, ...targets] = process.argv.slice(2).map(Number);
let next = 0;
net
  .createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targets[next++ % targets.length] });
    client.pipe(upstream).pipe(client);
    const close = () => (client.destroy(), upstream.destroy());
    client.on('error', close);
    upstream.on('error', close);
  })
  .listen(port, '127.0.0.1');

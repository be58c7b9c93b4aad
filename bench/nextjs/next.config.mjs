// Standalone output: one `node server.js` process, as the seed would be deployed.
export default {
  output: "standalone",
  poweredByHeader: false,
};

// leadq's GraphiQL: the playground with the explorer plugin, every file served by leadq itself.
// The page's JSON configuration (#leadq-config) gives the endpoint and the initial headers (the
// development token, in development mode, shown and editable in the Headers editor).
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('leadq-config').textContent);
  var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
  var headers = config.headers || {};
  var fetcher = GraphiQL.createFetcher({
    url: config.endpoint,
    subscriptionUrl: scheme + window.location.host + config.endpoint,
    wsConnectionParams: headers,
  });
  var explorer = GraphiQLPluginExplorer.explorerPlugin({ showAttribution: false });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      headers: Object.keys(headers).length ? JSON.stringify(headers, null, 2) : undefined,
      defaultEditorToolsVisibility: Object.keys(headers).length ? 'headers' : false,
      shouldPersistHeaders: false,
      defaultQuery: '# Welcome to leadq. Try:\n{\n  me {\n    name\n    roles\n  }\n}\n',
    })
  );
})();

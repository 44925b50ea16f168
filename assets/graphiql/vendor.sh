#!/usr/bin/env bash
# Re-vendors the GraphiQL playground's files from the npm registry, at the pinned versions below
# (run by hand when upgrading; the server embeds the files of this folder, and CI checks nothing
# is fetched from anywhere else). Writes SHA256SUMS beside them.
#
# Why these versions: React 18 is the last React with browser (UMD) builds; GraphiQL 3.9 is the
# last GraphiQL with a browser build that React 18 and the explorer plugin 3.2 (same
# @graphiql/react 0.29) load without a bundler.
set -euo pipefail
cd "$(dirname "$0")"
REACT=18.3.1
GRAPHIQL=3.9.0
EXPLORER=3.2.6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "react@$REACT" "react-dom@$REACT" "graphiql@$GRAPHIQL" \
    "@graphiql/plugin-explorer@$EXPLORER" >/dev/null)
for package in "react-$REACT" "react-dom-$REACT" "graphiql-$GRAPHIQL" "graphiql-plugin-explorer-$EXPLORER"; do
    mkdir -p "$work/$package" && tar xzf "$work/$package.tgz" -C "$work/$package"
done
cp "$work/react-$REACT/package/umd/react.production.min.js" react.production.min.js
cp "$work/react-$REACT/package/LICENSE" LICENSE.react
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" react-dom.production.min.js
cp "$work/react-dom-$REACT/package/LICENSE" LICENSE.react-dom
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" graphiql.min.js
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" graphiql.min.css
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" LICENSE.graphiql
cp "$work/graphiql-plugin-explorer-$EXPLORER/package/dist/index.umd.js" plugin-explorer.umd.js
cp "$work/graphiql-plugin-explorer-$EXPLORER/package/dist/style.css" plugin-explorer.css
# The plugin's package ships no licence file; its package.json says MIT, and it comes from the
# GraphiQL monorepo, whose MIT licence (GraphQL Contributors) is GraphiQL's own.
{
    echo "@graphiql/plugin-explorer $EXPLORER: \"license\": \"$(node -p "require('$work/graphiql-plugin-explorer-$EXPLORER/package/package.json').license")\" (package.json);"
    echo "the package ships no licence file; it is part of the GraphiQL monorepo, whose licence follows."
    echo
    cat "$work/graphiql-$GRAPHIQL/package/LICENSE"
} > LICENSE.plugin-explorer
cat > VERSIONS <<VERSIONS
react $REACT
react-dom $REACT
graphiql $GRAPHIQL
@graphiql/plugin-explorer $EXPLORER
VERSIONS
sha256sum ./*.js ./*.css > SHA256SUMS

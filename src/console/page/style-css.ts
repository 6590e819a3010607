/** The console's style sheet (/console/console.css). */
export const styleCss = `:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .8rem 1.5rem; background: #1d2330; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header .muted { color: #b8c0cc; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1rem; padding: 1rem 1.5rem; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: .5rem 1rem 1rem; overflow: auto; }
h2 { font-size: 1rem; margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eceff3; vertical-align: top; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 3px; font-size: .8rem; font-weight: 600; background: #888; color: #fff; }
.state-AVAILABLE, .ready { background: #1e8e3e; }
.state-LOADING, .state-START { background: #c77c02; }
.state-UNLOADING, .state-END { background: #6b7280; }
.not-ready, .error { background: #c5221f; }
.error-text { color: #c5221f; }
.muted { color: #6b7280; font-size: .85rem; }
#charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; }
figcaption { font-size: .8rem; color: #6b7280; }
canvas { max-width: 100%; border: 1px solid #eceff3; }
form { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; }
form label { display: flex; flex-direction: column; font-size: .85rem; gap: .2rem; }
details { font-size: .85rem; }
details label { display: inline-flex; margin-right: .5rem; }
pre { font-size: .8rem; background: #f6f7f9; padding: .5rem; max-height: 420px; overflow: auto; }
#auth { padding: .5rem 1.5rem; background: #fff4e5; }
`;

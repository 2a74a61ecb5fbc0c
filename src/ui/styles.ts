// The whole stylesheet, inlined in every page (about 7 KB): no extra request, nothing to cache-bust.
// Colours keep at least 4.5:1 contrast against their backgrounds; focus is always visible.
export const STYLES = `
:root{--fg:#1b1f24;--muted:#4d5661;--bg:#fff;--panel:#f5f7f9;--line:#d5dbe1;--link:#0550ae;--focus:#0969da;
--prod-bg:#dafbe1;--prod-fg:#0f5323;--stag-bg:#fff1c2;--stag-fg:#6b4500;--arch-bg:#eaeef2;--arch-fg:#424a53;
--none-bg:#ddf4ff;--none-fg:#0a3069;--diff:#fff8c5;--ok:#0f5323;--err:#a40e26;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:2}
header.top{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:10px 16px;border-bottom:1px solid var(--line);background:var(--panel)}
header.top .brand{font-weight:700;font-size:1.1rem;text-decoration:none;color:var(--fg)}
header.top form{margin-left:auto;display:flex;gap:6px}
header.top .who{color:var(--muted);font-size:.9rem}header.top form.signout{margin-left:0;width:auto}
main{max-width:1280px;margin:0 auto;padding:16px}
[hidden]{display:none!important}
h1{font-size:1.6rem;margin:.2em 0 .4em;word-break:break-word}h2{font-size:1.2rem;margin:1.6em 0 .5em}
.crumbs{font-size:.9rem;color:var(--muted);margin:0}
.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600}
.scroll{overflow-x:auto}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88rem}
.hash{word-break:break-all}
pre{background:var(--panel);border:1px solid var(--line);padding:8px 10px;overflow-x:auto;margin:0;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap;border:1px solid transparent}
.stage-Production{background:var(--prod-bg);color:var(--prod-fg);border-color:#4ac26b}
.stage-Staging{background:var(--stag-bg);color:var(--stag-fg);border-color:#d4a72c}
.stage-Archived{background:var(--arch-bg);color:var(--arch-fg)}
.stage-None{background:var(--none-bg);color:var(--none-fg)}
.status-FAILED_REGISTRATION{background:#ffebe9;color:var(--err)}.status-PENDING_REGISTRATION{background:var(--stag-bg);color:var(--stag-fg)}
.chip{display:inline-block;margin:1px 4px 1px 0;padding:0 6px;border:1px solid var(--line);border-radius:4px;font-size:.85rem;background:var(--panel);word-break:break-all}
button,.button{font:inherit;font-size:.9rem;padding:4px 12px;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa;color:var(--fg);cursor:pointer;text-decoration:none;display:inline-block}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}
button.danger{background:#fff;border-color:var(--err);color:var(--err)}
button.link{border:0;background:none;color:var(--link);text-decoration:underline;padding:0 2px}
input,select,textarea{font:inherit;font-size:.9rem;padding:4px 6px;border:1px solid #8c959f;border-radius:6px;max-width:100%;background:#fff;color:var(--fg)}
textarea{width:100%}
form.inline{display:inline-flex;flex-wrap:wrap;gap:4px;align-items:center;margin:0}
.panel{border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:12px 0;background:var(--panel)}
.panel h2{margin-top:0}.chip.alias{white-space:nowrap;word-break:normal}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-word}
.flash{padding:10px 14px;border-radius:6px;margin:0 0 12px;border:1px solid}
.flash.ok{background:var(--prod-bg);color:var(--ok);border-color:#4ac26b}.flash.error{background:#ffebe9;color:var(--err);border-color:#ff8182}
.empty{padding:24px;text-align:center;border:1px dashed var(--line);border-radius:8px;color:var(--muted)}
ol.timeline{list-style:none;padding:0;margin:0;border-left:3px solid var(--line)}
ol.timeline li{position:relative;padding:4px 0 10px 16px}
ol.timeline li::before{content:"";position:absolute;left:-8px;top:11px;width:13px;height:13px;border-radius:50%;background:var(--line)}
ol.timeline li.to-Production::before{background:#1f883d}ol.timeline li.to-Staging::before{background:#bf8700}
tr.differs td{background:var(--diff)}tr.differs th{box-shadow:inset 4px 0 #bf8700}
.pager{display:flex;gap:12px;margin:8px 0}
.snippet{display:flex;gap:6px;align-items:flex-start;margin:4px 0 10px}.snippet pre{flex:1}
figure{margin:8px 0}figcaption{margin:0 0 4px}
svg.chart{display:block;width:100%;max-width:520px;height:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
svg.chart.small{max-width:420px;border:0}svg.swatch{vertical-align:middle}
.small{font-size:.85rem}.lede{margin:0 0 8px;max-width:80ch}ul.plain{list-style:none;padding:0;margin:4px 0 0}
.live-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(250px,1fr));gap:10px;margin:8px 0 4px}
.live{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--panel)}
.live-Production{border-left-color:#1f883d}.live-Staging{border-left-color:#bf8700}.live-aliases{border-left-color:#0969da}
.live .live-version{font-size:1.15rem;font-weight:600;text-decoration:none}.live .live-title{font-weight:600}
.live .rollback{margin-top:8px;padding-top:8px;border-top:1px solid var(--line)}.live .rollback p{margin:0 0 6px}.live p.small{margin:6px 0 0}
.metrics-line{margin-top:4px;display:flex;flex-wrap:wrap;gap:2px 14px}.metric strong{font-variant-numeric:tabular-nums}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.best{font-weight:700}
table.versions th a.sort{color:inherit;text-decoration:underline dotted;text-underline-offset:3px}table.versions th a.sort:hover{text-decoration:underline}
table.versions th[aria-sort]{color:var(--fg)}td.pick{width:1%}td.pick input{width:18px;height:18px;margin:0}
td.source .mono{display:inline-block;max-width:22ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
details.pin{margin:0 0 6px}details.pin summary{cursor:pointer}.link-like{color:var(--link);text-decoration:underline}
details.pin form{margin:6px 0}fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 8px}
label.check{display:inline-block;margin:2px 14px 2px 0;white-space:nowrap}
.lineage-grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:16px}
.metric-cards{margin-top:8px;display:grid;align-items:start;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
figure.metric-card{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px 10px;background:#fff}
.chart-pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px;margin-top:10px}
p.chart-note{border:1px dashed var(--line);border-radius:6px;padding:24px 12px;text-align:center;max-width:520px}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 18px}
.getting-started{border:1px solid var(--line);border-radius:8px;padding:4px 16px 8px;background:var(--panel);max-width:820px}
.panel.actions .action-row{display:flex;flex-wrap:wrap;gap:8px 24px}details.inline-details{display:inline}details.inline-details[open]{display:block}
dl.facts{margin-bottom:8px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:640px){main{padding:10px}header.top form{margin-left:0;width:100%}header.top form.signout{width:auto}header.top input[type=search]{flex:1}
table.stack thead{display:none}table.stack tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{display:block;border:0;padding:2px 4px}table.stack td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-size:.85rem}
table.stack td.num{text-align:left}
table.versions tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 12px}table.versions td{padding:2px 0}
table.versions td.pick::before,table.versions td[data-label=Version]::before,table.versions td[data-label=Stage]::before,table.versions td[data-label=Run]::before,table.versions td[data-label=Actions]::before{content:none}
table.versions td[data-label=Run] div,table.versions td[data-label=Version] div,table.versions td[data-label=Stage] div{display:inline;margin-left:6px}table.versions td[data-label=Actions]{flex-basis:100%}td.source .mono{max-width:70vw}.lineage-grid{grid-template-columns:minmax(0,1fr)}h1{font-size:1.35rem}}
`;

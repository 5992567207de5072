using System;
using System.Security.Cryptography;
using System.Text;

namespace Segmind.Client.Gallery
{
    /// <summary>
    /// The page's only style sheet and script, inline (the page works offline and loads nothing else). The page's
    /// content security policy allows exactly these two by their SHA-256, so no other script or style can run.
    /// </summary>
    internal static class GalleryAssets
    {
        public const string Style =
@"*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;background:#f3f4f6}
header,main{max-width:1400px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:0 0 8px}
.summary{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}
.summary li{background:#fff;border:1px solid #d0d5dc;border-radius:6px;padding:6px 10px}
.summary b{display:block;font-size:1.15rem}
.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:end;margin:12px 0 0}
.filters label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600}
.filters select,.filters input{font:inherit;padding:4px 6px;min-width:9rem;border:1px solid #8a939e;border-radius:4px;background:#fff}
#shown{margin:8px 0 0;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(340px,100%),1fr));gap:16px;list-style:none;margin:0;padding:0}
.card{background:#fff;border:1px solid #d0d5dc;border-left:6px solid #8a939e;border-radius:8px;padding:12px;min-width:0}
.card.completed{border-left-color:#1a7f37}.card.failed{border-left-color:#cf222e}.card.pending{border-left-color:#9a6700}
.card h2{font-size:1.05rem;margin:0 0 6px;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.8rem;font-weight:700;padding:1px 8px;border-radius:10px;background:#eaeef2;color:#1b1f24}
.completed .badge{background:#dafbe1;color:#116329}.failed .badge{background:#ffebe9;color:#a40e26}.pending .badge{background:#fff8c5;color:#6c4a00}
.media{display:flex;gap:8px;margin:8px 0;align-items:flex-start}
.media video{flex:1;min-width:0;width:100%;max-height:320px;background:#000;border-radius:4px}
.media img{width:96px;height:96px;object-fit:cover;border:1px solid #d0d5dc;border-radius:4px;background:#eaeef2;font-size:.7rem}
.novideo{flex:1;margin:0;padding:24px 8px;text-align:center;background:#eaeef2;border-radius:4px;color:#424a53}
.prompt{margin:6px 0;white-space:pre-wrap;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0 0;font-size:.88rem}
dt{color:#424a53}dd{margin:0;overflow-wrap:anywhere}
.error{margin:8px 0 0;padding:6px 8px;background:#ffebe9;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
a{color:#0550ae}
a:focus,video:focus,select:focus,input:focus{outline:3px solid #0969da;outline-offset:2px}
@media (max-width:480px){header,main{padding:10px}.cards{grid-template-columns:minmax(0,1fr)}.media{flex-direction:column;align-items:stretch}.media img{align-self:flex-start;width:72px;height:72px}}
";

        // Sorting moves the cards in the DOM (not only on screen), so keyboard focus follows the order that is shown.
        // A fragment such as #status=failed&sort=cost presets the controls (a link to one view of the batch).
        public const string Script =
@"(function(){
var list=document.getElementById('cards'),form=document.getElementById('filters'),shown=document.getElementById('shown');
if(!list||!form){return;}
var cards=Array.prototype.slice.call(list.children);
function el(id){return document.getElementById(id);}
function num(c,k){var v=parseFloat(c.getAttribute('data-'+k));return isNaN(v)?-1:v;}
function apply(){
var q=el('f-text').value.trim().toLowerCase(),by=el('f-sort').value,st=el('f-status').value,mo=el('f-mode').value,re=el('f-resolution').value,n=0;
cards.sort(function(a,b){return (by==='order'?0:num(b,by)-num(a,by))||num(a,'order')-num(b,'order');});
cards.forEach(function(c){
var ok=(!st||c.getAttribute('data-status')===st)&&(!mo||c.getAttribute('data-mode')===mo)&&(!re||c.getAttribute('data-resolution')===re)&&(!q||c.textContent.toLowerCase().indexOf(q)>=0);
c.hidden=!ok;if(ok){n++;}list.appendChild(c);});
shown.textContent=n+' of '+cards.length+' rows shown';}
var h=new URLSearchParams(location.hash.slice(1));
[['status','f-status'],['mode','f-mode'],['resolution','f-resolution'],['q','f-text'],['sort','f-sort']].forEach(function(p){if(h.has(p[0])){el(p[1]).value=h.get(p[0]);}});
form.addEventListener('submit',function(e){e.preventDefault();});
form.addEventListener('change',apply);form.addEventListener('input',apply);
form.hidden=false;apply();
})();";

        public static readonly string StyleHash = Hash(Style);

        public static readonly string ScriptHash = Hash(Script);

        /// <summary>The page's content security policy: nothing but the inline style and script above, local files and http(s) media.</summary>
        public static readonly string ContentSecurityPolicy =
            "default-src 'none'; style-src '" + StyleHash + "'; script-src '" + ScriptHash + "'; "
            + "img-src file: http: https:; media-src file: http: https:; base-uri 'none'; form-action 'none'";

        private static string Hash(string text)
        {
            using var sha = SHA256.Create();
            return "sha256-" + Convert.ToBase64String(sha.ComputeHash(Encoding.UTF8.GetBytes(text)));
        }
    }
}

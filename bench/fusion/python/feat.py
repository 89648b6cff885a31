import numpy as np, pandas as pd, os, io, ast
from PIL import Image
D='/work/shared/data/poi'
df=pd.read_csv(D+'/poi_dataset.csv')
eps=1e-8
df['M2']=df.Likes/(df.Visits+eps)+df.Bookmarks/(df.Visits+eps)-df.Dislikes/(df.Likes+df.Bookmarks+eps)
rows=[]
for p in df.main_image_path:
    fn=os.path.join(D,p); raw=open(fn,'rb').read()
    im=Image.open(fn); q=getattr(im,'quantization',None)
    a=np.asarray(im.convert('RGB')).astype(np.float64)
    f={}
    f['fsize']=len(raw)
    if q:
        f['q0']=np.mean(q[0]); f['q1']=np.mean(q[1]) if 1 in q else 0
    for c,n in enumerate('rgb'):
        f['mean_'+n]=a[...,c].mean(); f['std_'+n]=a[...,c].std()
    g=a.mean(2)
    hsv=np.asarray(im.convert('RGB').convert('HSV')).astype(float)
    f['sat']=hsv[...,1].mean(); f['satstd']=hsv[...,1].std(); f['val']=hsv[...,2].mean(); f['hue']=hsv[...,0].mean()
    lap=g[1:-1,1:-1]*4-g[:-2,1:-1]-g[2:,1:-1]-g[1:-1,:-2]-g[1:-1,2:]
    f['lapvar']=np.log1p(lap.var())
    dx=np.abs(np.diff(g,axis=1)); dy=np.abs(np.diff(g,axis=0))
    bx=dx[:,7::8].mean(); ix=np.delete(dx,np.s_[7::8],axis=1).mean()
    by=dy[7::8,:].mean(); iy=np.delete(dy,np.s_[7::8],axis=0).mean()
    f['block']=(bx+by)/(ix+iy+1e-6); f['grad']=(dx.mean()+dy.mean())
    f['edge']=((dx[:-1,:]>20)|(dy[:,:-1]>20)).mean()
    rg=a[...,0]-a[...,1]; yb=0.5*(a[...,0]+a[...,1])-a[...,2]
    f['colorful']=np.sqrt(rg.std()**2+yb.std()**2)+0.3*np.sqrt(rg.mean()**2+yb.mean()**2)
    h=np.histogram(g,bins=64,range=(0,256))[0]/g.size; f['entropy']=-(h[h>0]*np.log2(h[h>0])).sum()
    f['w'],f['h']=im.size
    rows.append(f)
F=pd.DataFrame(rows)
F.to_csv('/tmp/fus/imgstats.csv',index=False)
print(F.describe().T)

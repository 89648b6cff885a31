import numpy as np, pandas as pd, os
from PIL import Image
D='/work/shared/data/poi'
df=pd.read_csv(D+'/poi_dataset.csv')
rows=[]
for p in df.main_image_path:
    a=np.asarray(Image.open(os.path.join(D,p)).convert('RGB')).astype(np.float64)
    g=a@[0.299,0.587,0.114]
    gx=np.diff(g,axis=1)[:-1,:]; gy=np.diff(g,axis=0)[:,:-1]; mag=np.sqrt(gx**2+gy**2)
    f={}
    for q in (50,75,90,95,99): f['gp%d'%q]=np.log1p(np.percentile(mag,q))
    for t in (5,10,20,40,80): f['gt%d'%t]=(mag>t).mean()
    # second differences (curvature) percentiles
    lap=np.abs(g[1:-1,1:-1]*4-g[:-2,1:-1]-g[2:,1:-1]-g[1:-1,:-2]-g[1:-1,2:])
    for q in (50,90,99): f['lp%d'%q]=np.log1p(np.percentile(lap,q))
    # ratio of diff energy at lag1 vs lag2 (upscaling makes neighbouring diffs correlated)
    d1=np.diff(g,axis=1); d2=g[:,2:]-g[:,:-2]
    f['lagratio']=np.log((d2**2).mean()+1e-6)-np.log((d1**2).mean()+1e-6)
    c=np.corrcoef(d1[:,:-1].ravel(),d1[:,1:].ravel())[0,1]; f['dcorr']=c if np.isfinite(c) else 0
    # chroma detail
    cb=a[...,2]-g; cr=a[...,0]-g
    f['chroma_grad']=np.log1p(np.abs(np.diff(cb,axis=1)).mean()+np.abs(np.diff(cr,axis=1)).mean())
    # local variance percentiles in 8x8 blocks
    B=g.reshape(16,8,16,8).std(axis=(1,3)).ravel()
    for q in (10,50,90): f['bs%d'%q]=np.log1p(np.percentile(B,q))
    f['flat_blocks']=(B<2).mean()
    rows.append(f)
pd.DataFrame(rows).to_csv('/tmp/fus/feat2.csv',index=False)

import numpy as np, pandas as pd, os
from PIL import Image
D='/work/shared/data/poi'
df=pd.read_csv(D+'/poi_dataset.csv')
rows=[]
yy,xx=np.mgrid[-64:64,-64:64]; r=np.sqrt(yy**2+xx**2)
edges=[0,4,8,12,16,24,32,40,48,56,64,91]
for p in df.main_image_path:
    a=np.asarray(Image.open(os.path.join(D,p)).convert('RGB')).astype(np.float64)
    g=a@[0.299,0.587,0.114]
    P=np.abs(np.fft.fftshift(np.fft.fft2(g-g.mean())))**2
    tot=P.sum()+1e-9
    f={}
    for i in range(len(edges)-1):
        m=(r>=edges[i])&(r<edges[i+1]); f['sp%d'%i]=np.log(P[m].mean()+1e-9)
    # downscale-upscale residual at factors 2,4
    for k in (2,4):
        small=Image.fromarray(g.astype(np.uint8)).resize((128//k,128//k),Image.BILINEAR).resize((128,128),Image.BILINEAR)
        f['res%d'%k]=np.log(((g-np.asarray(small,float))**2).mean()+1e-6)
    # 8x8 block DCT energy in high-freq coefficients
    B=g[:128,:128].reshape(16,8,16,8).transpose(0,2,1,3)
    from scipy.fft import dctn
    C=dctn(B-128,axes=(2,3),norm='ortho')
    hf=(np.abs(C[:,:,4:,4:])>1).mean(); f['dct_hf_nz']=hf
    f['dct_nz']=(np.abs(C)>1).mean()
    rows.append(f)
pd.DataFrame(rows).to_csv('/tmp/fus/spec.csv',index=False)

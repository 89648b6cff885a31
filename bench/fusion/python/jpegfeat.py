# JPEG container / file-level features of main.jpg: quantisation tables, estimated quality, chroma subsampling,
# progressive vs baseline, Huffman tables (standard vs optimised), APPn/COM markers, JFIF density, file size.
# Writes /tmp/fus2/jpeg.csv (one row per dataset row, same order as poi_dataset.csv).
import numpy as np, pandas as pd, os, struct, hashlib
from PIL import Image
D='/work/shared/data/poi'
df=pd.read_csv(D+'/poi_dataset.csv')
# standard (Annex K) luminance quant table, natural order is irrelevant for the quality estimate ratio of sums
STD_L=[16,11,10,16,24,40,51,61,12,12,14,19,26,58,60,55,14,13,16,24,40,57,69,56,14,17,22,29,51,87,80,62,18,22,37,56,68,109,103,77,24,35,55,64,81,104,113,92,49,64,78,87,103,121,120,101,72,92,95,98,112,100,103,99]
STD_C=[17,18,24,47,99,99,99,99,18,21,26,66,99,99,99,99,24,26,56,99,99,99,99,99,47,66,99,99,99,99,99,99]+[99]*32
def est_quality(q,std):
    # libjpeg scaling: q_i = (std_i*S+50)/100, S = 5000/Q (Q<50) or 200-2Q
    S=100.0*np.sum(q)/np.sum(std)
    Q=5000.0/S if S>100 else (200.0-S)/2.0
    return float(np.clip(Q,1,100))
def markers(raw):
    out=[]; i=2
    while i<len(raw)-1:
        if raw[i]!=0xFF: i+=1; continue
        m=raw[i+1]
        if m==0xD8 or m==0x01 or 0xD0<=m<=0xD7 or m==0xFF: i+=1 if m==0xFF else 2; continue
        if m==0xD9: out.append((m,b'')); break
        L=struct.unpack('>H',raw[i+2:i+4])[0]; seg=raw[i+4:i+2+L]; out.append((m,seg)); i+=2+L
        if m==0xDA:  # skip entropy-coded data until next non-RST marker
            j=i
            while j<len(raw)-1:
                if raw[j]==0xFF and raw[j+1]!=0 and not (0xD0<=raw[j+1]<=0xD7): break
                j+=1
            out.append(('scan_bytes',j-i)); i=j
    return out
rows=[]
for p in df.main_image_path:
    fn=os.path.join(D,p); raw=open(fn,'rb').read(); im=Image.open(fn)
    f={'fsize':len(raw),'lfsize':np.log(len(raw))}
    q=im.quantization or {}
    q0=np.array(q.get(0,[0]*64),float); q1=np.array(q.get(1,[0]*64),float)
    f['nq']=len(q); f['q0mean']=q0.mean(); f['q1mean']=q1.mean(); f['q0dc']=q0[0]; f['q1dc']=q1[0]
    f['q0max']=q0.max(); f['q0min']=q0.min()
    f['qual0']=est_quality(q0,STD_L) if len(q) else 0; f['qual1']=est_quality(q1,STD_C) if 1 in q else 0
    f['qhash']=int(hashlib.md5(str([list(v) for k,v in sorted(q.items())]).encode()).hexdigest()[:8],16)
    for k in range(64): f['q0_%d'%k]=q0[k] if len(q0)==64 else 0
    for k in range(64): f['q1_%d'%k]=q1[k] if len(q1)==64 else 0
    f['progressive']=int(im.info.get('progressive',0) or im.info.get('progression',0))
    f['mode_L']=int(im.mode=='L'); f['mode_CMYK']=int(im.mode=='CMYK')
    f['jfif']=int('jfif' in im.info); f['exif']=int('exif' in im.info); f['icc']=int('icc_profile' in im.info)
    f['adobe']=int('adobe' in im.info); f['comment']=int('comment' in im.info)
    d=im.info.get('dpi',(0,0)); f['dpi']=float(d[0]) if d else 0
    f['jfif_unit']=im.info.get('jfif_unit',-1); dens=im.info.get('jfif_density',(0,0)); f['jfif_dens']=dens[0]
    try:
        from PIL import JpegImagePlugin
        f['subsampling']=JpegImagePlugin.get_sampling(im)
    except Exception: f['subsampling']=-2
    ms=markers(raw)
    kinds=[m for m,_ in ms if m!='scan_bytes']
    f['n_markers']=len(kinds); f['n_sos']=kinds.count(0xDA); f['n_dht']=kinds.count(0xC4); f['n_dqt']=kinds.count(0xDB)
    f['n_app']=sum(1 for m in kinds if 0xE0<=m<=0xEF); f['has_app1']=int(0xE1 in kinds); f['has_app2']=int(0xE2 in kinds)
    f['has_app13']=int(0xED in kinds); f['has_app14']=int(0xEE in kinds); f['has_dri']=int(0xDD in kinds)
    f['sof']=[m for m in kinds if m in (0xC0,0xC1,0xC2)][0] if any(m in (0xC0,0xC1,0xC2) for m in kinds) else 0
    dht=b''.join(s for m,s in ms if m==0xC4)
    f['dht_len']=len(dht); f['dht_hash']=int(hashlib.md5(dht).hexdigest()[:8],16)
    f['scan_bytes']=sum(s for m,s in ms if m=='scan_bytes'); f['header_bytes']=len(raw)-f['scan_bytes']
    app=b''.join(s for m,s in ms if isinstance(m,int) and 0xE0<=m<=0xEF); f['app_bytes']=len(app)
    f['trailing']=len(raw)-(raw.rfind(b'\xff\xd9')+2)
    f['exif_sw']=hash(im.getexif().get(305,'')) % 1000 if f['exif'] else -1
    rows.append(f)
F=pd.DataFrame(rows); F.to_csv('/tmp/fus2/jpeg.csv',index=False)
for c in ['nq','progressive','jfif','exif','icc','adobe','comment','dpi','jfif_unit','jfif_dens','subsampling','n_sos','n_dht','n_dqt','n_app','has_app1','has_app2','has_app13','has_app14','has_dri','sof','dht_len','trailing','mode_L']:
    print(c, F[c].value_counts().head(6).to_dict())
print('qhash distinct',F.qhash.nunique(),'dht distinct',F.dht_hash.nunique())
print(F.qhash.value_counts().head(10)); print(F[['qual0','qual1','q0mean']].describe())

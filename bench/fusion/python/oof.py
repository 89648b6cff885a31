# Fold-local (out-of-fold) label features and stacking for #6. Everything fitted inside a CV fold sees only that
# fold's train rows; the train rows' own encodings come from an inner GroupKFold so they never see their own label.
from base import *
from sklearn.model_selection import GroupKFold
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.stats import rankdata
E=np.fromfile('/tmp/fus/emb.f32',dtype=np.float32).reshape(len(df),1280).astype(float)
LL=np.c_[df.locationLat.values, df.locationLon.values*np.cos(np.radians(40))]
TXT=(df.name.fillna('')+' . '+df.shortDescription.fillna('')).values
def knn_te(Z, src, dst, y, r, k):
    """features of dst rows from their k nearest src rows: class fractions, mean m2 rank (dst may overlap src: excluded)."""
    nn=NearestNeighbors(n_neighbors=min(k,len(src))).fit(Z[src]); d,i=nn.kneighbors(Z[dst])
    ys=y[src][i]; rs=r[src][i]; w=1.0/(d+1e-3)
    return np.c_[(ys==0).mean(1),(ys==2).mean(1),rs.mean(1),(w*rs).sum(1)/w.sum(1)]
def oof_feature(make, tr, va, y, inner=5, seed=0):
    """make(src,dst) -> features; train rows get inner out-of-fold values, validation rows use all train rows."""
    Ftr=None
    for itr,iva in GroupKFold(inner).split(tr,groups=groups[tr]):
        f=make(tr[itr],tr[iva])
        if Ftr is None: Ftr=np.zeros((len(tr),f.shape[1]))
        Ftr[iva]=f
    return Ftr, make(tr,va)
def rank_of(tr):
    r=np.zeros(len(m2)); r[tr]=rankdata(m2[tr])/len(tr); return r
def knn_space(Z,k):
    def f(X,tr,va,y):
        r=rank_of(tr); Ftr,Fva=oof_feature(lambda s,d: knn_te(Z,s,d,y,r,k),tr,va,y)
        return Ftr,Fva
    return f
def with_extra(extra_fns, C=1.0):
    def fit(X,tr,va,y):
        A=[X[tr]]; B=[X[va]]
        for fn in extra_fns:
            a,b=fn(X,tr,va,y); A.append(a); B.append(b)
        m=lr(C)(); m.fit(np.hstack(A),y[tr]); return m.predict(np.hstack(B))
    return fit
# ---- stacking: base models' inner-OOF class probabilities -> multinomial LR
def base_lr(Xs,C=1.0): return ('lr',lambda: lr(C)(),Xs)
def proba_oof(factory, Xs, tr, va, y, inner=5):
    P=np.zeros((len(tr),3))
    for itr,iva in GroupKFold(inner).split(tr,groups=groups[tr]):
        m=factory(); m.fit(Xs[tr[itr]],y[tr[itr]]); P[iva]=m.predict_proba(Xs[tr[iva]])
    m=factory(); m.fit(Xs[tr],y[tr]); return P, m.predict_proba(Xs[va])
def text_model(C=3.0):
    return lambda: make_pipeline(TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True,max_features=30000),LogisticRegression(C=C,max_iter=3000))
def stack(bases, meta_C=1.0, passthrough=None):
    """bases: list of (factory, X) ; passthrough: extra raw columns given to the meta model."""
    def fit(X,tr,va,y):
        A=[];B=[]
        for fac,Xs in bases:
            a,b=proba_oof(fac,Xs,tr,va,y); A.append(np.log(a[:,1:]+1e-6)-np.log(a[:,:1]+1e-6)); B.append(np.log(b[:,1:]+1e-6)-np.log(b[:,:1]+1e-6))
        if passthrough is not None: A.append(passthrough[tr]); B.append(passthrough[va])
        m=lr(meta_C)(); m.fit(np.hstack(A),y[tr]); return m.predict(np.hstack(B))
    return fit
def knn_scaled(Z,k,pca=None):
    """kNN target encoding in a feature space standardised (and optionally PCA-reduced) on the fold's train rows."""
    from sklearn.decomposition import PCA
    def f(X,tr,va,y):
        sc=StandardScaler().fit(Z[tr]); Zs=sc.transform(Z)
        if pca: Zs=PCA(pca,random_state=0).fit(Zs[tr]).transform(Zs)
        return knn_space(Zs,k)(X,tr,va,y)
    return f
def biased(factory, Xs, objective='acc', grid=np.linspace(-1.5,1.5,13)):
    """LR + per-class additive log-prob offsets chosen on the train rows' inner out-of-fold probabilities."""
    from sklearn.metrics import f1_score
    def fit(X,tr,va,y):
        P,Pv=proba_oof(factory,Xs,tr,va,y); L=np.log(P+1e-9); Lv=np.log(Pv+1e-9); best=(-1,0,0)
        for b0 in grid:
            for b2 in grid:
                p=(L+[b0,0,b2]).argmax(1); yt=y[tr]
                s=(p==yt).mean() if objective=='acc' else ((p==yt).mean()+f1_score(yt,p,average='macro'))/2
                if s>best[0]+1e-9: best=(s,b0,b2)
        return (Lv+[best[1],0,best[2]]).argmax(1)
    return fit

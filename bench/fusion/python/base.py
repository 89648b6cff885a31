# Shared harness for the #6 experiments: cv.py's protocol (StratifiedGroupKFold by id, tertile thresholds of m2 fitted
# on the train folds) run for seeds 0,1,2; models may receive the train/validation indices to build fold-local
# (out-of-fold) features.
import os
for v in ('OMP_NUM_THREADS','OPENBLAS_NUM_THREADS','MKL_NUM_THREADS'): os.environ.setdefault(v,'1')
import numpy as np, pandas as pd, warnings
warnings.filterwarnings('ignore')
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import accuracy_score, f1_score
from cv import D, df, eps, m2, cats, allc, M, groups  # cv.py's data, target and metadata features
F=pd.read_csv('/tmp/fus/imgstats.csv').drop(columns=['w','h'])
S=pd.read_csv('/tmp/fus/spec.csv'); G=pd.read_csv('/tmp/fus/feat2.csv').fillna(0)
XB=np.hstack([M.values,F.values,S.values,G.values])   # the 0.844 set
def labels(tr):
    th=np.quantile(m2[tr],[1/3,2/3]); return np.searchsorted(th,m2,side='left')
def lr(C=1.0):
    return lambda: make_pipeline(StandardScaler(),LogisticRegression(C=C,max_iter=3000))
def cv(X, seed=0, model=None, fit=None):
    """fit(X,tr,va,y) -> predicted labels for va (for fold-local features); else model() factory on X."""
    strat=pd.qcut(m2,3,labels=False); accs=[]; f1s=[]
    for tr,va in StratifiedGroupKFold(5,shuffle=True,random_state=seed).split(np.zeros(len(m2)),strat,groups):
        y=labels(tr)
        if fit is not None: p=fit(X,tr,va,y)
        else:
            mdl=(model or lr())(); mdl.fit(X[tr],y[tr]); p=mdl.predict(X[va])
        accs.append(accuracy_score(y[va],p)); f1s.append(f1_score(y[va],p,average='macro'))
    return np.mean(accs),np.std(accs),np.mean(f1s)
def report(name, X, seeds=(0,1,2), **kw):
    r=[cv(X,seed=s,**kw) for s in seeds]
    a=np.array(r)
    print('%-40s acc %s  mean %.4f | f1 %.4f'%(name,' '.join('%.4f±%.3f'%(x[0],x[1]) for x in r),a[:,0].mean(),a[:,2].mean()),flush=True)
    return a[:,0].mean(),a[:,2].mean()

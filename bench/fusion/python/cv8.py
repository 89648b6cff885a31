from cv import *
from sklearn.metrics import roc_auc_score
S=pd.read_csv('/tmp/fus/spec.csv'); Fi=F.drop(columns=['w','h']); G=pd.read_csv('/tmp/fus/feat2.csv')
th=np.quantile(m2,[1/3,2/3]); y=np.searchsorted(th,m2,side='left')
s=(F.q0<20).values&(y>0)
A=pd.concat([Fi,S,G],axis=1)
for c in A.columns: print(c, round(roc_auc_score(y[s]==2,A[c].values[s]),3))
print('base',cv(np.hstack([M.values,Fi.values,S.values])))
print('all',cv(np.hstack([M.values,A.values])))
print('all C.3',cv(np.hstack([M.values,A.values]),C=0.3))

import numpy as np, pandas as pd, ast, sys
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import accuracy_score, f1_score
D='/work/shared/data/poi'
df=pd.read_csv(D+'/poi_dataset.csv'); F=pd.read_csv('/tmp/fus/imgstats.csv')
eps=1e-8
m2=(df.Likes/(df.Visits+eps)+df.Bookmarks/(df.Visits+eps)-df.Dislikes/(df.Likes+df.Bookmarks+eps)).values
cats=df.categories.apply(ast.literal_eval); allc=sorted({c for l in cats for c in l})
M=pd.DataFrame({'ntags':df.tags.apply(lambda s: len(ast.literal_eval(s))),'lxps':np.log1p(df.xps),'lon':df.locationLon,'lat':df.locationLat})
for c in allc: M['cat_'+c]=cats.apply(lambda l: c in l).astype(float)
for t in range(1,5): M['tier%d'%t]=(df.tier==t).astype(float)
groups=pd.factorize(df.id)[0]
def cv(X, seed=0, C=1.0, model=None, verbose=False):
    strat=pd.qcut(m2,3,labels=False)
    accs=[];f1s=[]
    for tr,va in StratifiedGroupKFold(5,shuffle=True,random_state=seed).split(X,strat,groups):
        th=np.quantile(m2[tr],[1/3,2/3]); y=np.searchsorted(th,m2,side='left')
        mdl=model() if model else make_pipeline(StandardScaler(),LogisticRegression(C=C,max_iter=3000))
        mdl.fit(X[tr],y[tr]); p=mdl.predict(X[va])
        accs.append(accuracy_score(y[va],p)); f1s.append(f1_score(y[va],p,average='macro'))
    return np.mean(accs),np.std(accs),np.mean(f1s)
if __name__=='__main__':
    Xm=M.values
    print('meta',cv(Xm))
    Fi=F.drop(columns=['w','h'])
    print('meta+img',cv(np.hstack([Xm,Fi.values])))
    for c in Fi.columns:
        print(c, cv(np.hstack([Xm,Fi[[c]].values])))
    th=np.quantile(m2,[1/3,2/3]); y=np.searchsorted(th,m2,side='left')
    print(pd.concat([Fi,pd.Series(y,name='y')],axis=1).groupby('y').mean().T)
